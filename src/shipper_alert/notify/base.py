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

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from shipper_alert.redact import SecretScrubber
from shipper_alert.render import Renderer
from shipper_alert.report import Report
from shipper_alert.view import (
    Limits,
    MessageView,
    Shared,
    build_view,
    max_groups,
    total_task_lines,
)


class _TextWhenRead:
    """`Outgoing.text`: a string, or a function that makes it, called at the first read
    (the webhook's indented document is costly and only a preview reads it)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._key = f"_{name}"

    def __get__(self, outgoing: Any, owner: type | None = None) -> str:
        if outgoing is None:
            raise AttributeError(self._key)  # for dataclasses: the field has no default
        text = outgoing.__dict__[self._key]
        if callable(text):
            text = outgoing.__dict__[self._key] = text()
        return text

    def __set__(self, outgoing: Any, text: str | Callable[[], str]) -> None:
        outgoing.__dict__[self._key] = text


@dataclass(frozen=True)
class Outgoing:
    """One message as a channel will send it."""

    channel: str
    title: str
    # What a person reads: the rendered body (dry run, demo, logs at DEBUG); given as a
    # function, it is made when first read.
    text: str = _TextWhenRead()  # type: ignore[assignment]
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


# Up to this many task lines, `fit` renders the whole message first (one render when it
# fits); beyond, it climbs from the summary, so that no probe renders far more lines than
# the channel can take.
FULL_FIRST_LINES = 100
# With one measured point, the search first steps this many task lines up to see how much
# a line takes.
SLOPE_STEP = 8


def fit(
    report: Report,
    render: Callable[[MessageView], Outgoing],
    fits: Callable[[Outgoing], bool],
    usage: Callable[[Outgoing], float] | None = None,
) -> list[Outgoing]:
    """Render `report` as one message that `fits`, leaving out as little as possible.

    1. everything;
    2. every message group, and as many task lines as fit;
    3. as many groups per shipper as fit, no task lines;
    4. only if even the summary of every shipper does not fit: several messages, each
       holding as many shippers as fit (then filled with task lines again).
    Counts come from the report, so they are right whatever is left out.

    `usage` (the share of the channel's tightest limit a message takes, 1.0 = full) only
    guides where the search looks next: each step measures the message it rendered and
    aims at the size that would just fit, so a search takes a few renders instead of one
    per halving, and a long report is searched from below (no render of thousands of
    lines); `fits` alone decides, so what is chosen is exactly what bisection would
    choose (the largest n that fits). Without `usage` the search bisects.

    Packing for step 4 measures trial renders labelled "part 99 of 99", so `render` must
    make a part no larger when only its number changes: anything a channel adds to one
    part only (mentions on the first, say) must be added in every trial render too.
    """
    search = _Search(fits, usage)
    shared = Shared.of(report)

    def view(limits: Limits, *rest) -> MessageView:
        return build_view(report, limits, *rest, shared=shared)

    tasks = total_task_lines(report)
    known = summary = None
    if usage is None or tasks <= FULL_FIRST_LINES:
        full = render(view(Limits()))
        if fits(full):
            return [full]
        known = (tasks, full)
    else:
        # A long report: the smallest message first, as a report that needs parts is most
        # often a long one; when even it does not fit, nothing else is tried.
        summary = render(view(Limits(tasks=0, groups=0)))
        if not fits(summary):
            return _split(report, render, search, view)
    _, best, too_big = search.largest_n(lambda n: render(view(Limits(tasks=n))), tasks, known)
    if best is not None:
        return [best]
    # No task line fits: the summary with every group (too_big, n = 0) is where the
    # search over groups starts from.
    groups = max_groups(report)
    too_big = (groups, too_big) if too_big is not None else None
    _, best, _ = search.largest_n(
        lambda n: render(view(Limits(tasks=0, groups=n))),
        groups,
        too_big,
        known_fits=None if summary is None else (0, summary),
    )
    if best is not None:
        return [best]
    return _split(report, render, search, view)


def measured_once(measure: Callable[[Outgoing], Any]) -> Callable[[Outgoing], Any]:
    """`measure`, remembering its value for the message it measured last: `fit` asks
    `fits` and `usage` of each message it renders, and a measure may encode the whole body."""
    last: list[Any] = [None, None]

    def once(outgoing: Outgoing) -> Any:
        if last[0] is not outgoing:
            last[0], last[1] = outgoing, measure(outgoing)
        return last[1]

    return once


def within(
    size: Callable[[Outgoing], float], limit: float
) -> tuple[Callable[[Outgoing], bool], Callable[[Outgoing], float]]:
    """`fits` and `usage` (for `fit`) of a channel whose limit is one `size`; each message
    is measured once."""
    once = measured_once(size)
    return (lambda outgoing: once(outgoing) <= limit), (lambda outgoing: once(outgoing) / limit)


class _Search:
    """The largest n in [0, top] whose message fits, for a `fits` that holds up to some n
    and fails above it; `usage`, when given, aims each probe (see `fit`)."""

    def __init__(
        self, fits: Callable[[Outgoing], bool], usage: Callable[[Outgoing], float] | None
    ) -> None:
        self.fits = fits
        self.usage = usage

    def largest_n(
        self,
        make: Callable[[int], Outgoing],
        top: int,
        known_too_big: tuple[int, Outgoing] | None,
        smallest: int = 0,
        known_fits: tuple[int, Outgoing] | None = None,
    ) -> tuple[int, Outgoing | None, Outgoing | None]:
        """The largest n in [smallest, top] whose make(n) fits, with that message and the
        message of n + 1 (None when not rendered); (smallest - 1, None, ...) when none fits.
        `known_too_big` / `known_fits`: an n already rendered (and its message) that does
        not fit / that fits.
        """
        low, low_out = smallest - 1, None  # the largest n known to fit
        high, high_out = top + 1, None  # the smallest n known not to fit
        if known_too_big is not None:
            high, high_out = known_too_big
        if known_fits is not None:
            low, low_out = known_fits
        used: dict[int, float] = {}  # n -> usage, of the messages measured
        for known in (known_fits, known_too_big):
            if known is not None and self.usage is not None:
                used[known[0]] = self.usage(known[1])
        last: list[int] = []  # the last two n measured
        step = 0 if known_fits is None else 1  # step 0 finds whether anything fits
        while high - low > 1:
            probe = self._aim(low, high, used, last, step)
            step += 1
            candidate = make(probe)
            if self.usage is not None:
                used[probe] = self.usage(candidate)
                last = [*last[-1:], probe]
            if self.fits(candidate):
                low, low_out = probe, candidate
            else:
                high, high_out = probe, candidate
        return low, low_out, high_out

    def _aim(self, low: int, high: int, used: dict, last: list, step: int) -> int:
        middle = (low + high) // 2  # low < middle < high, as high - low > 1
        if self.usage is None:
            return middle
        if step == 0:
            # The smallest first: cheap, and it decides whether anything fits at all.
            return low + 1
        measured_high = high in used
        # A halving, or with no upper bound measured a doubling (never a render far larger
        # than what fits): now and then, and when the usage shows no slope.
        blind = middle if measured_high else min(high - 1, 2 * low + 2)
        if step % 3 == 0 and (measured_high or step >= 6):
            return blind
        if measured_high and low in used:
            (n0, u0), (n1, u1) = (low, used[low]), (high, used[high])  # between the bounds
        elif len(last) == 2:
            (n0, u0), (n1, u1) = ((n, used[n]) for n in last)  # beyond the last two
        else:
            # One point: a small step up shows what a line takes.
            return min(high - 1, low + SLOPE_STEP)
        if n0 == n1 or u1 == u0 or (u1 - u0) / (n1 - n0) <= 0:
            return blind
        guess = n0 + math.floor((1.0 - u0) / ((u1 - u0) / (n1 - n0)))  # where usage is 1.0
        return min(max(guess, low + 1), high - 1)


def _split(
    report: Report,
    render: Callable[[MessageView], Outgoing],
    search: _Search,
    view: Callable[..., MessageView],
) -> list:
    summary = Limits(tasks=0, groups=0)
    findings = report.findings
    # Pack with a two-digit part label so that the real label can only be shorter; a
    # shipper whose summary alone does not fit still gets a part of its own.
    parts: list[tuple] = []
    start = 0
    while start < len(findings):
        rest = findings[start:]

        def packed(k: int, rest: tuple = rest) -> Outgoing:
            return render(view(summary, rest[:k], 99, 99))

        taken, _, _ = search.largest_n(packed, len(rest), None, smallest=1)
        taken = max(taken, 1)
        parts.append(rest[:taken])
        start += taken
    count = len(parts)
    messages = []
    for index, chosen in enumerate(parts, start=1):
        tasks = sum(len(s.failed_tasks) + len(s.stuck_tasks) for s in chosen)

        def filled(n: int, chosen: tuple = chosen, index: int = index) -> Outgoing:
            return render(view(Limits(tasks=n), chosen, index, count))

        _, best, _ = search.largest_n(filled, tasks, None)
        messages.append(best or render(view(summary, chosen, index, count)))
    return messages
