"""The outbox of a stage's reports: what the server's answers do to the lines and states waiting in it."""

from __future__ import annotations

from pipelines.report import StageReport, StepReport
from pipelines.runner_api import LogAck
from pipelines.status import Status
from runner.client import RunnerError
from runner.log_batches import QueuedLines, lines_size
from runner.outbox import PLACEHOLDER, Outbox, StageState, StepState


def outbox_of(*runs: tuple[int, int, int], max_unsent: int = 1 << 20) -> tuple[Outbox, list[str]]:
    """An outbox holding, per (step, first, count), those lines of that step; and its warnings."""
    warnings: list[str] = []
    outbox = Outbox(7, max_unsent, warnings.append)
    for step, first, count in runs:
        lines = [(first + i, 0.0, f"{step}:{first + i}") for i in range(count)]
        outbox.items.append(QueuedLines(step, lines))
        outbox.unsent += lines_size(lines)
    return outbox, warnings


def texts(outbox: Outbox) -> list[str]:
    return [text for item in outbox.items if isinstance(item, QueuedLines) for _, _, text in item.lines]


def test_an_acknowledged_batch_leaves_and_frees_its_bytes() -> None:
    outbox, _ = outbox_of((1, 0, 3), (1, 3, 2), (2, 0, 1))
    batch = outbox.head_batch(100, 1 << 20)
    assert (batch.step, batch.first, len(batch.lines)) == (1, 0, 5)
    outbox.acknowledge(batch, LogAck(next=5))
    assert texts(outbox) == ["2:0"]
    assert outbox.unsent == lines_size([(0, 0.0, "2:0")])


def test_lines_the_server_did_not_keep_stay_from_where_it_says() -> None:
    outbox, _ = outbox_of((1, 0, 5))
    outbox.acknowledge(outbox.head_batch(100, 1 << 20), LogAck(next=2))
    assert texts(outbox) == ["1:2", "1:3", "1:4"]
    assert outbox.head_batch(100, 1 << 20).first == 2


def test_an_ack_behind_the_batch_drops_it_with_a_warning_rather_than_looping() -> None:
    outbox, warnings = outbox_of((1, 4, 2))
    outbox.acknowledge(outbox.head_batch(100, 1 << 20), LogAck(next=1))
    assert texts(outbox) == []
    assert warnings == ["stage 7: the server expects line 1 of step 1, not 4; lines 4-5 are dropped"]


def test_refused_lines_become_notes_and_refused_notes_are_dropped() -> None:
    outbox, warnings = outbox_of((1, 0, 2), (2, 0, 1))
    batch = outbox.head_batch(100, 1 << 20)
    outbox.skip(batch, RunnerError("too big"))
    assert [text.startswith(PLACEHOLDER) for text in texts(outbox)] == [True, True, False]
    assert outbox.head_batch(100, 1 << 20).first == 0, "the positions stay"
    outbox.skip(outbox.head_batch(100, 1 << 20), RunnerError("still refused"))
    assert texts(outbox) == ["2:0"]
    assert warnings == [
        "stage 7: too big; lines 0-1 of step 1 replaced by a note",
        "stage 7: still refused; lines 0-1 of step 1 dropped",
    ]


def test_collect_takes_states_and_runs_of_lines_in_order_within_the_limits() -> None:
    outbox, _ = outbox_of()
    step = StepReport(number=1, name="build", status=Status.RUNNING)
    outbox.items.append(StepState(step))
    extra, _ = outbox_of((1, 0, 3), (1, 3, 3))
    outbox.items.extend(extra.items)
    outbox.items.append(StageState(StageReport(number=1, name="default", status=Status.SUCCESS)))
    entries, _ = outbox.collect(200, 4, 1 << 20)  # the batch ends inside an item: nothing after it goes
    assert [(item.step is not None, item.logs is not None) for item, _ in entries] == [
        (True, False),
        (False, True),
    ]
    assert entries[1][1] is not None and len(entries[1][1].lines) == 4
    entries, drawn = outbox.collect(200, 100, 1 << 20)
    assert [item.stage is not None for item, _ in entries] == [False, False, True]
    assert drawn == 4


def test_a_final_state_refused_for_good_is_remembered_and_room_comes_back() -> None:
    outbox, _ = outbox_of((1, 0, 3), max_unsent=1)
    outbox.room.clear()
    outbox.drop_head(outbox.items[0])
    assert outbox.unsent == 0 and outbox.room.is_set()
    final = StageState(StageReport(number=1, name="default", status=Status.FAILURE))
    outbox.items.append(final)
    outbox.drop_head(final, refused=True)
    assert outbox.final_dropped and not outbox.items
