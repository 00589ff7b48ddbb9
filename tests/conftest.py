import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# Tests compute every result afresh (some replace codemods or engine parts); tests/test_cache.py
# turns the cache on in a folder of its own.
import os  # noqa: E402

os.environ.setdefault("OMNIMIX_NO_CACHE", "1")
