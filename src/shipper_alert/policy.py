"""Notification policy (pure): episodes, digests and held findings per target.

One target (a shipper, later an export job) is either quiet or in an *episode*. `step`
takes the episode as it stood after the previous window and what this window showed, and
returns what to send now and the episode after it (contract, "Notification policy"):

- the first window in trouble (breach, stuck task or stall) after a quiet one opens an
  episode and sends FIRING with that window's findings;
- while the episode lasts, findings are held; a cause the episode has not shown yet
  (taskCode, else the message with numbers and ids masked) sends STILL FAILING at once,
  carrying everything held; otherwise held findings go out as one STILL FAILING digest in
  the first window in trouble that holds a whole multiple of REMIND_INTERVAL since the
  epoch (the grid) and ends at least REMIND_INTERVAL after the episode's last message
  (any grid window once two intervals passed without a message);
- the episode closes with RESOLVED, carrying what is still held, once the target has been
  clear for one whole REMIND_INTERVAL (one window when REMIND_INTERVAL is 0), so a
  flapping target stays one episode; with REMIND_INTERVAL 0 every window in trouble sends.

The grid makes checks agree without talking: with the ledger the episode is stored, and
without it `replay` recomputes it from the windows the fetched tasks still show; two
replays that start at different windows send their digests in the same grid window from
the second grid window on, so a horizon of `replay_horizon` windows settles the decision.
Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from shipper_alert.causes import cause_key

FIRING = "FIRING"
STILL_FAILING = "STILL FAILING"
RESOLVED = "RESOLVED"

KIND_FAILED = "failed"
KIND_STUCK = "stuck"
KIND_STALL = "stall"


def cause_of(code: str | None, message: str) -> str:
    """The cause a failure shows (`causes.cause_key`: taskCode, else the masked message),
    tagged with which of the two it is."""
    key = cause_key(code, message)
    return f"code:{key}" if code and code.strip() else f"message:{key}"


@dataclass(frozen=True)
class Finding:
    """One thing that must appear in exactly one message."""

    kind: str  # KIND_FAILED, KIND_STUCK or KIND_STALL
    key: str  # task id, or "stall:<due instant>"
    cause: str
    window_end: int  # the window that found it

    def to_json(self) -> dict:
        return {"kind": self.kind, "key": self.key, "cause": self.cause, "at": self.window_end}

    @classmethod
    def from_json(cls, data: dict) -> Finding:
        return cls(str(data["kind"]), str(data["key"]), str(data["cause"]), int(data["at"]))


@dataclass(frozen=True)
class Observation:
    """What one window showed for one target."""

    start: int
    end: int
    trouble: bool  # breached, or a stuck task or a stall is due
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class Episode:
    """An open episode: instants are ends of checked windows."""

    started: int
    last_message: int
    last_trouble: int
    causes: frozenset[str] = frozenset()
    held: tuple[Finding, ...] = ()

    def to_json(self) -> dict:
        return {
            "started": self.started,
            "lastMessage": self.last_message,
            "lastTrouble": self.last_trouble,
            "causes": sorted(self.causes),
            "held": [f.to_json() for f in self.held],
        }

    @classmethod
    def from_json(cls, data: dict) -> Episode:
        return cls(
            started=int(data["started"]),
            last_message=int(data["lastMessage"]),
            last_trouble=int(data["lastTrouble"]),
            causes=frozenset(str(c) for c in data["causes"]),
            held=tuple(Finding.from_json(f) for f in data["held"]),
        )


@dataclass(frozen=True)
class Decision:
    """What one window sends for one target, and the episode after it."""

    state: str | None  # FIRING, STILL_FAILING, RESOLVED, or None: nothing to send
    send: tuple[Finding, ...]
    episode: Episode | None
    new_cause: bool = False

    @property
    def held(self) -> tuple[Finding, ...]:
        return self.episode.held if self.episode else ()


def on_grid(start: int, end: int, remind: int) -> bool:
    """Whether [start, end) holds a whole multiple of `remind` since the epoch."""
    return remind <= 0 or -(-start // remind) * remind < end


def quiet_needed(remind: int, window_length: int) -> int:
    """How long a target must be clear for its episode to close."""
    return remind if remind > 0 else window_length


def step(
    episode: Episode | None, seen: Observation, remind: int, notify_resolved: bool = True
) -> Decision:
    """The decision for one window, given the episode after the previous one."""
    causes = frozenset(f.cause for f in seen.findings)
    if episode is None:
        if not seen.trouble:
            return Decision(None, (), None)
        opened = Episode(seen.end, seen.end, seen.end, causes)
        return Decision(FIRING, seen.findings, opened)
    held = episode.held + seen.findings
    if not seen.trouble and seen.end - episode.last_trouble >= quiet_needed(
        remind, seen.end - seen.start
    ):
        # Held findings must still appear in a message, so they go out even when
        # NOTIFY_RESOLVED is off.
        state = RESOLVED if notify_resolved or held else None
        return Decision(state, held, None)
    last_trouble = seen.end if seen.trouble else episode.last_trouble
    new = bool(causes - episode.causes)
    # A clear grid window keeps what is held for the RESOLVED that follows, unless a whole
    # grid interval passed without a message (a target in trouble every other window could
    # otherwise hold its findings for hours, its grid windows happening to be clear).
    since = seen.end - episode.last_message
    digest_due = (
        on_grid(seen.start, seen.end, remind)
        and since >= remind
        and (seen.trouble or (bool(held) and since >= 2 * remind))
    )
    if new or digest_due:
        after = Episode(episode.started, seen.end, last_trouble, episode.causes | causes)
        return Decision(STILL_FAILING, held, after, new_cause=new)
    after = replace(episode, last_trouble=last_trouble, held=held)
    return Decision(None, (), after)


def replay_horizon(remind: int, window_length: int) -> int:
    """How many earlier windows stateless replay needs for its decision to settle."""
    if remind <= 0:
        return 1
    # Three intervals: a digest may carry what was held since two intervals before it.
    return 3 * (-(-remind // window_length)) + 1


def replay(
    observations: Iterable[Observation], remind: int, notify_resolved: bool = True
) -> Decision:
    """Stateless: run `step` over the windows in order and return the last decision.

    The first observation starts with no episode; a target already in trouble there is
    taken to have been notified at that window (its findings count as shown). Causes
    the first REMIND_INTERVAL of observations shows count as shown too, so that a cause
    is "new" only against a whole interval before it, whichever window the replay starts
    at (otherwise each check's replay would see other phantom new-cause messages and
    push the digest away).
    """
    observations = list(observations)
    if not observations:
        return Decision(None, (), None)
    prehistory = observations[0].end + remind
    shown = frozenset(f.cause for o in observations if o.end <= prehistory for f in o.findings)
    episode: Episode | None = None
    decision = Decision(None, (), None)
    for seen in observations:
        decision = step(episode, seen, remind, notify_resolved)
        episode = decision.episode
        if episode is not None and seen.end <= prehistory:
            episode = replace(episode, causes=episode.causes | shown)
    return decision
