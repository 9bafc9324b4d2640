"""The duration chart of a repository page: an inline SVG bar per recent build, its height the duration."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from pipelines.status import Status
from webui.present import format_duration, status_icon, status_label

MAX_BUILDS = 50

_WIDTH = 600
_HEIGHT = 140
_PLOT_LEFT = 48
_PLOT_RIGHT = 596
_PLOT_TOP = 24  # room above for the symbol over the tallest bar
_PLOT_BOTTOM = 122
_MIN_SLOTS = 12  # so that a handful of builds still gives slim bars
_MAX_BAR_WIDTH = 28
_MIN_BAR_HEIGHT = 2
_UNFINISHED_BAR_HEIGHT = 8

# Fallback fills (the stylesheet's classes override them); each keeps 3:1 contrast on white and on #0d1117.
_FILLS: dict[str, str] = {
    "bar-success": "#2da44e",
    "bar-failure": "#cf222e",
    "bar-error": "#e16f24",
    "bar-killed": "#6e7781",
    "bar-running": "#b08800",
    "bar-other": "#8c959f",
}
_CLASSES: dict[str, str] = {
    Status.SUCCESS: "bar-success",
    Status.FAILURE: "bar-failure",
    Status.ERROR: "bar-error",
    Status.KILLED: "bar-killed",
    Status.RUNNING: "bar-running",
}
_DONE = frozenset(status.value for status in Status if status.is_done)
_FAILED = frozenset(status.value for status in Status if status.is_failed)


@dataclass(frozen=True)
class ChartBuild:
    """One build as the chart draws it; seconds is None while it has no duration yet."""

    number: int
    status: str
    seconds: float | None
    href: str


def duration_chart_svg(builds: Sequence[ChartBuild]) -> Markup:
    """An inline SVG of the last 50 builds (given newest first), oldest left: bar height is the duration,
    colour and symbol the outcome, each bar a link to its build."""
    if not builds:
        return Markup(
            f'<svg class="duration-chart duration-chart-empty" xmlns="http://www.w3.org/2000/svg"'
            f' viewBox="0 0 {_WIDTH} 40" role="img" aria-label="No builds yet">'
            f'<text x="{_WIDTH // 2}" y="25" text-anchor="middle" font-size="13" fill="currentColor">'
            "No builds yet</text></svg>"
        )
    recent = list(builds[:MAX_BUILDS])[::-1]
    longest = max(
        (build.seconds for build in recent if build.seconds is not None and _has_duration(build)),
        default=None,
    )
    slot = (_PLOT_RIGHT - _PLOT_LEFT) / max(len(recent), _MIN_SLOTS)
    parts = [_axes(recent, longest, slot)]
    parts += [
        _bar(build, _PLOT_LEFT + slot * (index + 0.5), slot, longest) for index, build in enumerate(recent)
    ]
    return Markup(
        f'<svg class="duration-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {_HEIGHT}"'
        f' role="img" aria-label="{escape(_summary(recent, longest))}">{"".join(parts)}</svg>'
    )


def _has_duration(build: ChartBuild) -> bool:
    """True for a finished build whose duration is known (only those are drawn to scale)."""
    return build.status in _DONE and build.seconds is not None


def _summary(recent: list[ChartBuild], longest: float | None) -> str:
    """The chart in words, e.g. "last 50 builds: 41 passed, 7 failed, 2 other; longest 3m 10s"."""
    passed = sum(build.status == Status.SUCCESS for build in recent)
    failed = sum(build.status in _FAILED for build in recent)
    count = f"last {len(recent)} build{'' if len(recent) == 1 else 's'}"
    summary = f"{count}: {passed} passed, {failed} failed, {len(recent) - passed - failed} other"
    return summary if longest is None else f"{summary}; longest {format_duration(longest)}"


def _axes(recent: list[ChartBuild], longest: float | None, slot: float) -> str:
    """The baseline, the line and label of the longest duration, and the numbers of the end builds."""
    label_style = 'class="chart-label" font-size="10" fill="currentColor"'
    parts = [
        f'<line class="chart-axis" x1="{_PLOT_LEFT}" y1="{_PLOT_BOTTOM}" x2="{_PLOT_RIGHT}"'
        f' y2="{_PLOT_BOTTOM}" stroke="currentColor" stroke-opacity=".4"/>'
    ]
    if longest is not None:
        parts.append(
            f'<line class="chart-grid" x1="{_PLOT_LEFT}" y1="{_PLOT_TOP}" x2="{_PLOT_RIGHT}" y2="{_PLOT_TOP}"'
            ' stroke="currentColor" stroke-opacity=".2" stroke-dasharray="3 3"/>'
            f'<text {label_style} x="{_PLOT_LEFT - 4}" y="{_PLOT_TOP + 4}" text-anchor="end">'
            f"{escape(format_duration(longest))}</text>"
        )
    parts.append(
        f'<text {label_style} x="{_PLOT_LEFT}" y="{_HEIGHT - 4}" text-anchor="start">'
        f"#{recent[0].number}</text>"
    )
    if len(recent) > 1:
        right = _number(_PLOT_LEFT + slot * len(recent))
        parts.append(
            f'<text {label_style} x="{right}" y="{_HEIGHT - 4}" text-anchor="end">#{recent[-1].number}</text>'
        )
    return "".join(parts)


def _bar(build: ChartBuild, centre: float, slot: float, longest: float | None) -> str:
    """One build: a link holding its title, a hit area the height of the chart, the bar and its symbol."""
    css_class = _CLASSES.get(build.status, "bar-other")
    fill = _FILLS[css_class]
    width = min(slot * 0.7, _MAX_BAR_WIDTH)
    left = _number(centre - width / 2)
    title = f"#{build.number} {status_label(build.status)}"
    if build.seconds is not None:
        title += f" · {format_duration(build.seconds)}"
    if _has_duration(build) and longest is not None and build.seconds is not None:
        scaled = build.seconds / longest * (_PLOT_BOTTOM - _PLOT_TOP) if longest > 0 else 0.0
        height = max(_MIN_BAR_HEIGHT, scaled)
        shape = (
            f'<rect class="bar {css_class}" x="{left}" y="{_number(_PLOT_BOTTOM - height)}"'
            f' width="{_number(width)}" height="{_number(height)}" fill="{fill}"/>'
        )
    else:  # still going, or no duration: a short dashed outline instead of a bar to scale
        height = _UNFINISHED_BAR_HEIGHT
        shape = (
            f'<rect class="bar bar-unfinished {css_class}" x="{left}" y="{_PLOT_BOTTOM - height}"'
            f' width="{_number(width)}" height="{height}" fill="{fill}" fill-opacity=".25" stroke="{fill}"'
            ' stroke-width="1.5" stroke-dasharray="3 2"/>'
        )
    symbol_size = _number(min(slot * 0.8, 12))
    symbol = status_icon(build.status)
    return (
        f'<a href="{escape(build.href)}"><title>{escape(title)}</title>'
        f'<rect class="bar-hit" x="{_number(centre - slot / 2)}" y="0" width="{_number(slot)}"'
        f' height="{_PLOT_BOTTOM}" fill="#000" fill-opacity="0"/>{shape}'
        f'<text class="bar-symbol {css_class}" x="{_number(centre)}" y="{_number(_PLOT_BOTTOM - height - 3)}"'
        f' text-anchor="middle" font-size="{symbol_size}" fill="{fill}">{symbol}</text></a>'
    )


def _number(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros, so the output is stable and short."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
