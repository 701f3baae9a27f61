"""The notifier seam: one channel, one module, one shape.

A channel
- builds its outgoing messages from a report (pure: `build`), keeping within its size limit
  with `fit`;
- sends one message once (`send`), with the timeout it is given;
- classifies a failure by raising `DeliveryFailure(retryable=...)`.
It never retries, sleeps or fans out: `notify.delivery` does that for every channel alike
(the shape of Alertmanager's notify/ package: notifier, retry stage and fan-out apart).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from shipper_alert.redact import SecretScrubber
from shipper_alert.render import Renderer
from shipper_alert.report import Report
from shipper_alert.view import Limits, MessageView, build_view, max_groups, total_task_lines


@dataclass(frozen=True)
class Outgoing:
    """One message as a channel will send it."""

    channel: str
    title: str
    text: str  # what a person reads: the rendered body (dry run, demo, logs at DEBUG)
    payload: Any  # what goes on the wire: a JSON-able dict, or an EmailMessage

    def preview(self) -> dict[str, str]:
        return {"channel": self.channel, "title": self.title, "text": self.text}


class DeliveryFailure(Exception):
    """One attempt failed. `detail` must not contain a secret (URL, token, password).

    `partial` says some of the message already went out (email to some recipients): a
    person has been told, so the invocation must not fail and be retried by FC.
    `status` and `body` keep the HTTP status and the (shortened) reply of an HTTP failure,
    so a channel can read the service's error code without parsing `detail`.
    """

    def __init__(
        self,
        detail: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        partial: bool = False,
        status: int | None = None,
        body: str | None = None,
    ) -> None:
        # The detail and body quote what a service answered, which may echo a credential.
        detail = SecretScrubber.scrub(detail)
        body = None if body is None else SecretScrubber.scrub(body)
        super().__init__(detail)
        self.detail = detail
        self.retryable = retryable
        self.retry_after = retry_after
        self.partial = partial
        self.status = status
        self.body = body


class Notifier(ABC):
    name: ClassVar[str]

    @abstractmethod
    def build(self, report: Report, renderer: Renderer) -> list[Outgoing]:
        """The messages for `report`, each within the channel's limits."""

    @abstractmethod
    def send(self, outgoing: Outgoing, timeout: float) -> None:
        """Send one message once; raise DeliveryFailure when it was not delivered."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release pooled connections."""


def fit(
    report: Report,
    render: Callable[[MessageView], Outgoing],
    fits: Callable[[Outgoing], bool],
) -> list[Outgoing]:
    """Render `report` as one message that `fits`, leaving out as little as possible.

    1. everything;
    2. every message group, and as many task lines as fit;
    3. as many groups per shipper as fit, no task lines;
    4. only if even the summary of every shipper does not fit: several messages, each
       holding as many shippers as fit (then filled with task lines again).
    Counts come from the report, so they are right whatever is left out.

    Packing for step 4 measures trial renders labelled "part 99 of 99", so `render` must
    make a part no larger when only its number changes: anything a channel adds to one
    part only (mentions on the first, say) must be added in every trial render too.
    """
    full = render(build_view(report))
    if fits(full):
        return [full]

    def largest(upper: int, make: Callable[[int], Outgoing]) -> Outgoing | None:
        """make(n) for the largest n in [0, upper) whose message fits, or None."""
        low, high, best = 0, upper - 1, None
        while low <= high:
            middle = (low + high) // 2
            candidate = make(middle)
            if fits(candidate):
                best, low = candidate, middle + 1
            else:
                high = middle - 1
        return best

    tasks = total_task_lines(report)
    best = largest(tasks + 1, lambda n: render(build_view(report, Limits(tasks=n))))
    if best is not None:
        return [best]
    groups = max_groups(report)
    best = largest(groups + 1, lambda n: render(build_view(report, Limits(tasks=0, groups=n))))
    if best is not None:
        return [best]
    return _split(report, render, fits)


def _split(
    report: Report,
    render: Callable[[MessageView], Outgoing],
    fits: Callable[[Outgoing], bool],
) -> list[Outgoing]:
    summary = Limits(tasks=0, groups=0)
    # Pack with a two-digit part label so that the real label can only be shorter.
    parts: list[list] = [[]]
    for shipper in report.findings:
        trial = [*parts[-1], shipper]
        if not parts[-1] or fits(render(build_view(report, summary, tuple(trial), 99, 99))):
            parts[-1] = trial
        else:
            parts.append([shipper])
    count = len(parts)
    messages = []
    for index, members in enumerate(parts, start=1):
        chosen = tuple(members)
        tasks = sum(len(s.failed_tasks) + len(s.stuck_tasks) for s in chosen)
        best = None
        low, high = 0, tasks
        while low <= high:
            middle = (low + high) // 2
            candidate = render(build_view(report, Limits(tasks=middle), chosen, index, count))
            if fits(candidate):
                best, low = candidate, middle + 1
            else:
                high = middle - 1
        messages.append(best or render(build_view(report, summary, chosen, index, count)))
    return messages
