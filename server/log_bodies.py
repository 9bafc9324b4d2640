"""Log lines kept as the JSON text they came in: a runner writes each batch's lines in its request body as the
server stores them (compact JSON, pydantic's encoder on both sides), so the server validates that very text
and stores it, rather than encoding the lines it just parsed once more (a batch is thousands of lines).

Only a body laid out as the runner writes it is read so (its lines last in a log batch, a report's items in
their fields' order); any other body, and any body whose pieces do not validate, is validated whole as before
(the same answer, the same error), and its lines are encoded for storage.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pydantic import ConfigDict, TypeAdapter, ValidationError

from pipelines.runner_api import LogBatch, ReportBatch

LINES = TypeAdapter(list[tuple[float, str]], config=ConfigDict(strict=True))
"""A batch's lines, validated from their own JSON text: strictly, so a time is a number in the text kept."""

_LINES_KEY = b'"lines":'
_REPORT_LOGS_END = b']},"stage":'
"""What follows the lines of a report's log item: the end of the array and of the batch, then the next field
(outside a string: a quote inside one is escaped)."""


def report_batch_with_texts(body: bytes) -> tuple[ReportBatch, list[str | None]] | None:
    """A ReportBatch and, per item, the JSON text of its log lines (None for other items); None when the body
    is not laid out as the runner writes it, or its pieces do not validate (validate it whole then)."""
    spans = list(_report_spans(body))
    if not spans:
        return None
    try:
        batch = ReportBatch.model_validate_json(_without(body, spans))
        logs = [item.logs for item in batch.items if item.logs is not None]
        texts = _validated_texts(body, spans, logs)
    except (ValidationError, UnicodeDecodeError):
        return None
    if texts is None:
        return None
    by_item = iter(texts)
    return batch, [next(by_item) if item.logs is not None else None for item in batch.items]


def log_batch_with_text(body: bytes) -> tuple[LogBatch, str] | None:
    """A LogBatch and the JSON text of its lines; None as for `report_batch_with_texts`."""
    start = _lines_start(body, 0)
    if start < 0 or not body.endswith(b"]}"):
        return None
    spans = [(start, len(body) - 1)]
    try:
        batch = LogBatch.model_validate_json(_without(body, spans))
        texts = _validated_texts(body, spans, [batch])
    except (ValidationError, UnicodeDecodeError):
        return None
    return (batch, texts[0]) if texts is not None else None


def _report_spans(body: bytes) -> Iterator[tuple[int, int]]:
    """Where each log item's lines are in a report batch's body: the array, `[` to `]` included."""
    position = 0
    while (start := _lines_start(body, position)) >= 0:
        end = body.find(_REPORT_LOGS_END, start)
        if end < 0:
            return
        yield start, end + 1
        position = end + len(_REPORT_LOGS_END)


def _lines_start(body: bytes, position: int) -> int:
    """Where the next `lines` array starts from `position` (right after its key, as the runner writes it); -1
    when there is none."""
    key = body.find(_LINES_KEY + b"[", position)
    return key + len(_LINES_KEY) if key >= 0 else -1


def _without(body: bytes, spans: Sequence[tuple[int, int]]) -> bytes:
    """The body with every span's lines left out (an empty array in their place)."""
    pieces: list[bytes] = []
    after = 0
    for start, end in spans:
        pieces += (body[after:start], b"[]")
        after = end
    pieces.append(body[after:])
    return b"".join(pieces)


def _validated_texts(
    body: bytes, spans: Sequence[tuple[int, int]], logs: Sequence[LogBatch]
) -> list[str] | None:
    """The spans' texts, each validated as its batch's lines (put in the batch); None when the spans are not
    the batches' lines (one each, nothing left in the batch without them)."""
    if len(logs) != len(spans) or any(batch.lines for batch in logs):
        return None
    texts = [body[start:end].decode() for start, end in spans]
    for batch, text in zip(logs, texts, strict=True):
        batch.lines = LINES.validate_json(text)
    return texts
