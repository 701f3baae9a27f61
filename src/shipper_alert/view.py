"""What one message shows of a report, under limits, with exact counts of what it leaves out.

A channel whose size limit a full message would pass renders the same report again with
smaller `Limits` until it fits (see `notify.fit`): first fewer task lines (the grouped
error messages with their counts stay), then fewer groups per shipper, and only when even
that summary does not fit, the shippers are split over several messages. Totals always
come from the report, never from what is shown, so truncation cannot make a count wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from shipper_alert import headings
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


@dataclass(frozen=True)
class MessageView:
    report: Report
    shippers: tuple[ShipperView, ...]
    part: int = 1
    parts: int = 1

    @property
    def hidden_items(self) -> int:
        return sum(s.hidden_items for s in self.shippers)

    @property
    def totals(self):
        return self.report.totals

    @cached_property
    def causes(self) -> headings.Causes:
        """Every cause of the whole report (not only of the shippers in this part)."""
        return headings.causes_of(self.report)

    @cached_property
    def title(self) -> str:
        return headings.title(self.report, self.report.findings, self.part, self.parts)

    @cached_property
    def push_line(self) -> str:
        line = headings.push_line(self.report, self.causes)
        return f"{line} · part {self.part} of {self.parts}" if self.parts > 1 else line

    def retry_commands(self, shipper: ShipperView) -> tuple[str, ...]:
        """Shown with the shipper's task lines: when fit leaves them all out, the command
        goes too, so that it never costs a split."""
        if not any(g.tasks for g in shipper.groups):
            return ()
        return headings.retry_commands(self.report, shipper.report)

    @property
    def footer(self) -> str:
        return headings.footer(self.report)


def build_view(
    report: Report,
    limits: Limits = Limits(),
    shippers: tuple[ShipperReport, ...] | None = None,
    part: int = 1,
    parts: int = 1,
) -> MessageView:
    """Lay out `shippers` (default: every finding) under `limits`."""
    budget = limits.tasks
    views = []
    for shipper in report.findings if shippers is None else shippers:
        groups = shipper.groups
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
    return MessageView(report, tuple(views), part, parts)


def section_key(view: MessageView, shipper: ShipperView) -> tuple:
    """What a shipper's section of a message depends on, so that a channel rendering one
    section per shipper renders each distinct section once while `fit` searches."""
    return (
        id(shipper.report),
        tuple(len(g.tasks) for g in shipper.groups),
        shipper.hidden_groups,
        len(shipper.stuck),
        view.part,
        view.parts,
    )


def total_task_lines(report: Report) -> int:
    return sum(len(r.failed_tasks) + len(r.stuck_tasks) for r in report.findings)


def max_groups(report: Report) -> int:
    return max((len(r.groups) for r in report.findings), default=0)
