"""A runner's log lines are validated from their own JSON text in the request body, and that text is kept."""

from __future__ import annotations

import json

import pytest

from pipelines.report import StageReport, StepReport
from pipelines.runner_api import LogBatch, ReportBatch, ReportItem
from pipelines.status import Status
from server.log_bodies import log_batch_with_text, report_batch_with_texts
from server.store.logs import lines_json

TRICKY: list[tuple[float, str]] = [
    (0.5, 'a text with "lines":[ in it'),
    (0.5, 'and ]},"stage": and ]]} and ],['),
    (1.25, 'quote " back \\ tab \t nul \u0000 é ☃ 𝄞 \u2028 \u001b[31mred'),
    (2.0, ""),
]


def runner_body(*items: ReportItem) -> bytes:
    """A report batch as the runner sends it."""
    return ReportBatch(items=list(items)).model_dump_json().encode()


def test_each_log_items_lines_come_with_their_text_as_the_server_would_encode_it() -> None:
    step = StepReport(number=1, name="build", status=Status.RUNNING, started=1.0)
    stage = StageReport(number=1, name="test", status=Status.SUCCESS, finished=2.0)
    items = [
        ReportItem(step=step),
        ReportItem(logs=LogBatch(step=1, first=0, lines=TRICKY)),
        ReportItem(logs=LogBatch(step=1, first=4, lines=[])),
        ReportItem(logs=LogBatch(step=2, first=0, lines=[(3.0, "second step")])),
        ReportItem(stage=stage),
    ]
    body = runner_body(*items)
    read = report_batch_with_texts(body)
    assert read is not None
    batch, texts = read
    assert batch == ReportBatch.model_validate_json(body), "the same batch as validated whole"
    assert texts == [None, lines_json(TRICKY), "[]", lines_json([(3.0, "second step")]), None]
    decoded = [json.loads(text) for text in texts if text is not None]
    assert decoded == [[list(line) for line in TRICKY], [], [[3.0, "second step"]]]


def test_a_single_log_batch_comes_with_its_text() -> None:
    body = LogBatch(step=3, first=7, lines=TRICKY).model_dump_json().encode()
    read = log_batch_with_text(body)
    assert read is not None
    assert read == (LogBatch(step=3, first=7, lines=TRICKY), lines_json(TRICKY))


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"items": [{"logs": {"step": 1, "first": 0, "lines": [[0.5, "spaced"]]}}]}).encode(),
        b'{"items":[{"logs":{"lines":[[0.5,"lines first"]],"step":1,"first":0},"stage":null}]}',
        b'{"items":[{"logs":{"step":1,"first":0,"lines":[["0.5","a time as text"]]},"stage":null}]}',
        b'{"items":[{"logs":{"step":1,"first":0,"lines":[[0.5,"a lone \\ud800"]]},"stage":null}]}',
        b'{"items":[{"logs":{"step":1,"first":0,"lines":[[0.5,"cut"]',
        b'{"items":[{"step":null,"logs":null,"stage":null,"tests":null}]}',
        b"not json",
    ],
)
def test_a_body_not_laid_out_as_the_runner_writes_it_is_left_to_be_validated_whole(body: bytes) -> None:
    assert report_batch_with_texts(body) is None


@pytest.mark.parametrize(
    "body",
    [
        b'{"step": 1, "first": 0, "lines": [[0.5, "spaced"]]}',
        b'{"lines":[[0.5,"lines first"]],"step":1,"first":0}',
        b'{"step":1,"first":0,"lines":[[0.5,"x"]],"extra":[1]}',
        b'{"step":1,"first":0,"lines":[[null,"no time"]]}',
    ],
)
def test_a_single_batch_not_laid_out_so_is_left_to_be_validated_whole(body: bytes) -> None:
    assert log_batch_with_text(body) is None
