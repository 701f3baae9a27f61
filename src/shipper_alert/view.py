"""What one message shows of a report, under limits, with exact counts of what it leaves out.

A channel whose size limit a full message would pass renders the same report again with
smaller `Limits` until it fits (see `notify.fit`): first fewer task lines (the grouped
error messages with their counts stay), then fewer groups per shipper, and only when even
that summary does not fit, the shippers are split over several messages. Totals always
come from the report, never from what is shown, so truncation cannot make a count wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from shipper_alert import headings, history_chart, links
from shipper_alert import history as timelines
from shipper_alert.evaluate import FailedTask, StuckTask
from shipper_alert.report import MessageGroup, Report, ShipperReport


@dataclass(frozen=True)
class Limits:
    tasks: int | None = None  # task lines (failed and stuck) over the whole message
    groups: int | None = None  # message groups per shipper


@dataclass(frozen=True)
class GroupView:
    group: MessageGroup
    tasks: tuple[FailedTask, ...]  # shown

    @property
    def message(self) -> str:
        return self.group.message

    @property
    def code(self) -> str | None:
        return self.group.code

    @property
    def count(self) -> int:
        return self.group.count

    @property
    def hidden(self) -> int:
        """Task lines left out (an export job's groups have none to leave out)."""
        return len(self.group.tasks) - len(self.tasks)


@dataclass(frozen=True)
class ShipperView:
    report: ShipperReport
    groups: tuple[GroupView, ...]
    hidden_groups: int  # groups not shown at all
    hidden_group_tasks: int  # failed tasks in those groups
    stuck: tuple[StuckTask, ...]

    @property
    def hidden_stuck(self) -> int:
        return len(self.report.stuck_tasks) - len(self.stuck)

    @property
    def hidden_items(self) -> int:
        shown_failed = sum(len(g.tasks) for g in self.groups)
        return (len(self.report.failed_tasks) - shown_failed) + self.hidden_stuck


class Shared:
    """What every view of one report shows alike, worked out once however many views
    `fit` lays out: the causes, the footer, and each target's chart, link and commands."""

    _last: Shared | None = None  # of the report laid out last: every channel lays it out

    def __init__(self, report: Report) -> None:
        self.report = report
        self._per_target: dict[tuple[Any, int], Any] = {}

    @classmethod
    def of(cls, report: Report) -> Shared:
        """The Shared of `report`: the one made last when it was for the same report (a
        report never changes), so that every channel's messages share it."""
        last = cls._last
        if last is None or last.report is not report:
            last = cls._last = cls(report)
        return last

    @cached_property
    def findings(self) -> tuple:
        return self.report.findings

    @cached_property
    def causes(self) -> headings.Causes:
        return headings.causes_of(self.report)

    @cached_property
    def push_line(self) -> str:
        return headings.push_line(self.report, self.causes)

    @cached_property
    def totals(self):
        return self.report.totals

    @cached_property
    def footer(self) -> str:
        return headings.footer(self.report)

    def per_target(self, what: Any, target: ShipperReport, make: Callable[[Any], Any]) -> Any:
        """make(target), once per target and `what`."""
        key = (what, id(target))
        if key not in self._per_target:
            self._per_target[key] = make(target)
        return self._per_target[key]


@dataclass(frozen=True)
class MessageView:
    report: Report
    shippers: tuple[ShipperView, ...]
    part: int = 1
    parts: int = 1
    shared: Shared = None  # type: ignore[assignment] - None: one of its own

    def __post_init__(self) -> None:
        if self.shared is None:
            object.__setattr__(self, "shared", Shared.of(self.report))

    @property
    def hidden_items(self) -> int:
        return sum(s.hidden_items for s in self.shippers)

    @property
    def totals(self):
        return self.shared.totals

    @property
    def causes(self) -> headings.Causes:
        """Every cause of the whole report (not only of the shippers in this part)."""
        return self.shared.causes

    @cached_property
    def title(self) -> str:
        return headings.title(self.report, self.shared.findings, self.part, self.parts)

    @cached_property
    def push_line(self) -> str:
        line = self.shared.push_line
        return f"{line} · part {self.part} of {self.parts}" if self.parts > 1 else line

    def retry_commands(self, shipper: ShipperView) -> tuple[str, ...]:
        """Shown with the shipper's task lines: when fit leaves them all out, the command
        goes too, so that it never costs a split."""
        if not any(g.tasks for g in shipper.groups):
            return ()
        report = self.report
        return self.shared.per_target(
            "retry", shipper.report, lambda r: headings.retry_commands(report, r)
        )

    def bar_line(self, shipper: ShipperView) -> str:
        """`failed ··▁▃█ · succeeded ██▇▂·` over the lookback; "" without a timeline
        (export jobs, unread shippers)."""
        return self.shared.per_target("bars", shipper.report, _bar_line)

    def timeline_label(self, shipper: ShipperView) -> str:
        """What the bars cover: `06:05–12:05 UTC, 15m a bar`."""
        return self._drawn(shipper, timelines.span_label)

    def timeline_chart(self, shipper: ShipperView) -> str:
        """The email's HTML-table chart (escaped by html_chart itself)."""
        return self._drawn(shipper, history_chart.html_chart)

    def _drawn(self, shipper: ShipperView, draw) -> str:
        """draw(timeline, timezone, its name), once per target; "" without a timeline."""
        zone, name = self.report.timezone, self.report.timezone_name

        def drawn(target) -> str:
            timeline = getattr(target, "timeline", None)
            return draw(timeline, zone, name) if timeline else ""

        return self.shared.per_target(draw, shipper.report, drawn)

    def console_link(self, shipper: ShipperView) -> links.ConsoleLink:
        """The shipper's (or export job's) console page in the report's region; without
        the region when it is not a region id (the console then opens the default one)."""
        return self.shared.per_target("link", shipper.report, self._console_link)

    def _console_link(self, target: ShipperReport) -> links.ConsoleLink:
        try:
            return target.console_link(self.report.region)
        except ValueError:
            return target.console_link(None)

    @property
    def footer(self) -> str:
        return self.shared.footer


def _groups(target) -> tuple:
    return target.groups


def _bar_line(target) -> str:
    timeline = getattr(target, "timeline", None)
    return timelines.bar_line(timeline) if timeline else ""


def build_view(
    report: Report,
    limits: Limits = Limits(),
    shippers: tuple[ShipperReport, ...] | None = None,
    part: int = 1,
    parts: int = 1,
    shared: Shared | None = None,
) -> MessageView:
    """Lay out `shippers` (default: every finding) under `limits`; views that pass one
    `shared` (of the same report) work out what they show alike once."""
    budget = limits.tasks
    views = []
    shared = shared or Shared.of(report)
    for shipper in shared.findings if shippers is None else shippers:
        groups = shared.per_target("groups", shipper, _groups)
        shown_groups = groups if limits.groups is None else groups[: limits.groups]
        group_views = []
        for group in shown_groups:
            lines = len(group.tasks)
            take = lines if budget is None else min(lines, budget)
            if budget is not None:
                budget -= take
            group_views.append(GroupView(group, group.tasks[:take]))
        hidden = groups[len(shown_groups) :]
        stuck_take = (
            len(shipper.stuck_tasks) if budget is None else min(len(shipper.stuck_tasks), budget)
        )
        if budget is not None:
            budget -= stuck_take
        views.append(
            ShipperView(
                report=shipper,
                groups=tuple(group_views),
                hidden_groups=len(hidden),
                hidden_group_tasks=sum(g.count for g in hidden),
                stuck=shipper.stuck_tasks[:stuck_take],
            )
        )
    return MessageView(report, tuple(views), part, parts, shared)


def section_key(view: MessageView, shipper: ShipperView, by_part: bool = True) -> tuple:
    """What a shipper's section of a message depends on, so that a channel rendering one
    section per shipper renders each distinct section once while `fit` searches.
    `by_part=False` for a template that never shows the part (the built-in ones), so that
    the trial parts `fit` packs and the parts it sends share their sections."""
    key = (
        id(shipper.report),
        tuple(len(g.tasks) for g in shipper.groups),
        shipper.hidden_groups,
        len(shipper.stuck),
    )
    return (*key, view.part, view.parts) if by_part else key


def total_task_lines(report: Report) -> int:
    return sum(len(r.failed_tasks) + len(r.stuck_tasks) for r in report.findings)


def max_groups(report: Report) -> int:
    return max((len(r.groups) for r in report.findings), default=0)
