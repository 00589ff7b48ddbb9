from pathlib import Path
from textwrap import dedent

import pytest
from codemod_examples import assert_example, run_example

from codemods.base import Example
from codemods.dead_letter_queue import ReplaceDeadLetterQueue
from omnimix.analysis.context import FileContext
from omnimix.migration_state import Outcome
from omnimix.results import Status

KAFKA = "name: n\nnode_type: EFFECT\ndependencies:\n  - {name: kafka, type: kafka}\n"
METRICS_CONTRACT = KAFKA + "mixins:\n  - {name: MixinMetrics}\nadvanced_features:\n  dead_letter_queue: {topic_suffix: .dlq}\n"


@pytest.mark.parametrize("example", ReplaceDeadLetterQueue.examples, ids=lambda e: e.title)
def test_examples(example, tmp_path):
    assert_example(ReplaceDeadLetterQueue, example, tmp_path)
    _after, result = run_example(ReplaceDeadLetterQueue, example, tmp_path / "status")
    assert result.status in (Status.CHANGED, Status.UNCHANGED), result.message


def test_findings_of_the_first_example_are_kept_with_the_reason(tmp_path):
    _after, result = run_example(ReplaceDeadLetterQueue, ReplaceDeadLetterQueue.examples[0], tmp_path)
    assert result.decisions and {d.outcome for d in result.decisions} == {Outcome.KEPT}
    assert all("publish nothing" in d.note for d in result.decisions)


def spans(source: str) -> list[tuple[int, int]]:
    ctx = FileContext(Path("node.py"), "node.py", dedent(source))
    return [(f.start_line, f.end_line) for f in ReplaceDeadLetterQueue().detect(ctx)]


CONSUMER = """\
    import json

    DEAD_LETTER_TOPIC = "jobs.v1.dead-letter"


    class NodeJobsEffect:
        def __init__(self, producer, consumer):
            self._producer = producer
            self._consumer = consumer
            self._dead_letter_enabled = True
            self._dead_letters = 0

        async def consume(self, message):
            ok = False
            try:
                await self.apply(message)
                ok = True
            except Exception as exc:
                sent = await self.send_dead_letter(message, exc)
            if ok or sent:
                await self._consumer.commit()

        async def send_dead_letter(self, message, error):
            payload = {"original_topic": message.topic, "error": repr(error)}
            await self._producer.send(DEAD_LETTER_TOPIC, json.dumps(payload))
            self._dead_letters += 1
            return True
    """


def test_a_differently_spelled_dead_letter_flow_is_found():
    assert spans(CONSUMER) == [(3, 3), (10, 11), (19, 19), (20, 21), (23, 27)]


def test_inline_dlq_send_in_a_loop_is_one_statement():
    source = """\
        class NodeX:
            async def run(self, messages):
                for message in messages:
                    try:
                        await self.apply(message)
                    except Exception:
                        await self._producer.send_and_wait(f"{message.topic}.dlq", message.value)
                    await self._consumer.commit()
        """
    assert spans(source) == [(7, 7)]


def test_dead_letter_envelope_type_is_found_and_a_settings_field_is_not():
    source = """\
        from dataclasses import dataclass
        from typing import TypedDict


        class FailedRecord(TypedDict):
            original_topic: str
            original_offset: int
            error_type: str


        @dataclass
        class KafkaSettings:
            enable_dead_letter_queue: bool = False
            max_retry_attempts: int = 3
        """
    assert spans(source) == [(5, 8)]


def test_client_flag_and_topic_deriver_are_not_hand_written_dlq():
    source = """\
        class NodeX:
            def __init__(self, container, factory):
                self._client = factory(enable_dead_letter_queue=True)
                self.set_dlq_topic_deriver(lambda event_type, topic: f"{topic}.dlq")
                self.dlq_enabled = True
        """
    assert spans(source) == []


def test_dlq_counter_read_by_health_is_not_moved(tmp_path):
    example = Example(
        title="counter read by health",
        contract=METRICS_CONTRACT,
        before=dedent("""\
            from omnibase_core.nodes import NodeEffect


            class NodeX(NodeEffect):
                def __init__(self, container, producer):
                    super().__init__(container)
                    self._producer = producer
                    self._dlq_failures = 0

                async def _publish_to_dlq(self, message):
                    try:
                        await self._producer.send(message.topic + ".dlq", message.value)
                    except Exception:
                        self._dlq_failures += 1

                def get_health(self):
                    return {"dlq_failures": self._dlq_failures}
            """),
        after="",
    )
    after, result = run_example(ReplaceDeadLetterQueue, example, tmp_path)
    assert "self._dlq_failures += 1" in after
    assert {d.outcome for d in result.decisions} == {Outcome.KEPT}


def test_dlq_counter_read_only_by_metrics_moves_to_mixin_metrics(tmp_path):
    example = Example(
        title="counter read by metrics",
        contract=METRICS_CONTRACT,
        before=dedent("""\
            from omnibase_core.nodes import NodeEffect


            class NodeX(NodeEffect):
                def __init__(self, container, producer):
                    super().__init__(container)
                    self._producer = producer
                    self._dlq_failures = 0

                async def _publish_to_dlq(self, message):
                    try:
                        await self._producer.send(message.topic + ".dlq", message.value)
                    except Exception:
                        self._dlq_failures += 1

                def metrics_snapshot(self):
                    return {"dlq_failures": self._dlq_failures}
            """),
        after="",
    )
    after, result = run_example(ReplaceDeadLetterQueue, example, tmp_path)
    assert 'self.increment_counter("dlq_failures")' in after
    assert 'MixinMetrics.get_metrics(self).get("dlq_failures", {}).get("value", 0)' in after
    assert "self._dlq_failures = 0" not in after
    assert "class NodeX(NodeEffect, MixinMetrics):" in after
    assert Outcome.APPLIED in {d.outcome for d in result.decisions}
    again, _ = run_example(ReplaceDeadLetterQueue, example, tmp_path / "again", text=after)
    assert again == after


def test_suffix_in_code_differing_from_the_contract_is_warned(tmp_path):
    example = Example(
        title="suffix mismatch",
        contract=KAFKA + "advanced_features:\n  dead_letter_queue: {topic_suffix: .dead}\n",
        before=dedent("""\
            from omnibase_core.nodes import NodeEffect

            DLQ_SUFFIX = ".dlq"


            class NodeX(NodeEffect):
                async def _publish_to_dlq(self, message):
                    await self._producer.send(message.topic + DLQ_SUFFIX, message.value)
            """),
        after="",
    )
    _after, result = run_example(ReplaceDeadLetterQueue, example, tmp_path)
    assert any("topic_suffix is '.dead'" in w for w in result.warnings)


def test_a_dedicated_dlq_producer_is_a_dead_letter_write():
    source = """\
        class NodeX:
            def __init__(self, dlq_producer):
                self._dlq_producer = dlq_producer

            async def _park(self, message):
                await self._dlq_producer.send_and_wait(self._topic, message.value)
        """
    assert spans(source) == [(3, 3), (5, 6)]


# -- families seen in nodes written in another hand -----------------------------------------
def test_safe_offsets_outcome_type_and_dlq_snapshot():
    findings = spans(ReplaceDeadLetterQueue.examples[2].before)
    assert findings == [
        (7, 10),  # outcome enum with a dead-lettered member
        (18, 19),  # DLQ counters
        (26, 26),  # outcomes recorded for the commit
        (27, 29),  # safe offsets, committed only when there are some
        (35, 35),  # the dead-letter write
        (39, 47),  # safe-offset calculation
        (49, 57),  # publisher
        (59, 60),  # snapshot of the DLQ counters
    ]


def test_a_router_named_for_dead_lettering_and_the_commit_gate_on_its_outcome():
    source = """\
        class NodeFold:
            def __init__(self, consumer, producer):
                self._consumer = consumer
                self._producer = producer
                self._dlq_enabled = True

            async def consume(self, messages):
                last = None
                for message in messages:
                    outcome = await self._ingest(message)
                    if outcome is None:
                        break
                    if outcome == "folded":
                        self.folded += 1
                    last = message.offset
                if last is not None:
                    await self._consumer.commit(last + 1)

            async def _ingest(self, message):
                try:
                    return self.fold(message)
                except ValueError as exc:
                    return await self._dead_letter_or_drop(message, exc)

            async def _dead_letter_or_drop(self, message, error):
                if not self._dlq_enabled:
                    return "dropped"
                return await self._publish_to_dlq(message, error)

            async def _publish_to_dlq(self, message, error):
                await self._producer.send(f"{message.topic}.dlq", {"error": str(error)})
                return "dead_lettered"
        """
    assert spans(source) == [(5, 5), (11, 12), (23, 23), (25, 28), (30, 32)]


def test_dlq_entries_of_reports_and_a_health_guard_that_only_answers():
    source = """\
        import logging

        logger = logging.getLogger(__name__)


        class NodeSink:
            def __init__(self, producer):
                self._producer = producer
                self._dlq_enabled = True
                self._dlq_count = 0

            async def _publish_to_dlq(self, message):
                await self._producer.send_and_wait(f"{message.topic}.dlq", message.value)
                self._dlq_count += 1

            def get_metrics(self):
                snapshot = {"uptime": 1.0}
                snapshot["dlq_count"] = self._dlq_count
                return snapshot

            async def check_dlq(self):
                if not self._dlq_enabled:
                    return "healthy", "dead-letter queue disabled", {}
                return "healthy", "ok", {}

            async def start(self):
                if self._producer is None and self._dlq_enabled:
                    logger.warning("No producer: dead-letter publishing is disabled")
        """
    assert spans(source) == [(9, 10), (12, 14), (18, 18), (27, 28)]


def test_dlq_types_and_the_helper_that_prepares_the_envelope():
    source = """\
        from typing import TypedDict


        class DeadLetterStats(TypedDict):
            sent: int
            failures: int


        class StepFailedError(Exception):
            def __init__(self, step):
                super().__init__(step)
                self.step = step


        def _decode_for_dlq(value):
            return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


        class NodeSteps:
            def __init__(self, producer):
                self._producer = producer

            async def run(self, message, step):
                if not await self.apply(step):
                    await self._publish_to_dlq(message, StepFailedError(step))

            async def _publish_to_dlq(self, message, error):
                body = {"original_value": _decode_for_dlq(message.value), "error": str(error)}
                await self._producer.send(f"{message.topic}.dlq", body)
        """
    assert spans(source) == [(4, 6), (9, 12), (15, 16), (25, 25), (27, 29)]
