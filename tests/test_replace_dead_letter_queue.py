from pathlib import Path
from textwrap import dedent

import pytest

from codemod_examples import assert_example, run_example
from codemods.base import Example
from codemods.replace_dead_letter_queue import ReplaceDeadLetterQueue
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
