import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Tests compute every result afresh (some replace codemods or engine parts); tests/test_cache.py
# turns the cache on in a folder of its own.
import os  # noqa: E402

os.environ.setdefault("OMNIMIX_NO_CACHE", "1")

# Hypothesis: "ci" (the default) is derandomised and small enough for the suite to stay fast; "long"
# (HYPOTHESIS_PROFILE=long) runs thousands of examples for local runs, with the example database on.
# OMNIMIX_HYPOTHESIS_EXAMPLES=N sets the chosen profile's max_examples (the base the properties scale from).
from hypothesis import HealthCheck, settings  # noqa: E402

_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large,
                 HealthCheck.filter_too_much]
settings.register_profile("ci", max_examples=60, derandomize=True, deadline=None, database=None,
                          print_blob=True, suppress_health_check=_SLOW_IS_FINE)
settings.register_profile("long", max_examples=2000, deadline=None, print_blob=True,
                          suppress_health_check=_SLOW_IS_FINE)
_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if os.environ.get("OMNIMIX_HYPOTHESIS_EXAMPLES"):
    settings.register_profile(f"{_PROFILE}-bounded", settings.get_profile(_PROFILE),
                              max_examples=int(os.environ["OMNIMIX_HYPOTHESIS_EXAMPLES"]))
    _PROFILE = f"{_PROFILE}-bounded"
settings.load_profile(_PROFILE)


# The whole-corpus migration of tests/test_payoff.py takes minutes of subprocesses: start it as soon as the
# session knows it will run, so that it runs beside the rest of the suite.
def pytest_collection_finish(session):
    if any(item.path.name == "test_payoff.py" for item in session.items):
        import payoff_pipeline

        payoff_pipeline.start()


def pytest_sessionfinish(session, exitstatus):
    if "payoff_pipeline" in sys.modules:
        sys.modules["payoff_pipeline"].stop()
