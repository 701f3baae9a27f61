"""Causes of failed tasks: what every message opens with.

A failed task's cause is its taskCode, else its message with the parts that vary from task
to task (numbers, ids, hex, dates, paths) masked, so that "the same trouble" is one cause.
`group_causes` turns the failed tasks of every target into distinct causes with exact counts
and the targets each hits, ordered so that what a person must fix comes before what SLS
clears by itself; `hint_for` gives the fix hint of a known code with its vendor page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


class FailedLike(Protocol):
    id: str
    message: str
    code: str | None


# Order matters: a date is masked before its numbers, a path before its segments. A vendor
# error code such as ODPS-0123031 names the cause, so it is kept as it is.
_MASKS = re.compile(
    r"(?P<keep>\b[A-Z]{2,}-\d{4,}\b)"
    r"|(?P<date>\b\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)"
    r"|(?P<path>(?:[A-Za-z][A-Za-z0-9+.-]*://[^\s/]+)?(?:/[^\s/,;:'\"()\[\]]+){2,}/?)"
    r"|(?P<uuid>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)"
    r"|(?P<hex>\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b)"
    r"|(?P<id>\b(?=[A-Za-z0-9_-]*[A-Za-z])(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{6,}\b)"
    r"|(?P<number>(?<![A-Za-z_])\d+(?:\.\d+)?(?![A-Za-z_]))"
)
_MASK_TEXT = {
    "date": "{date}",
    "path": "{path}",
    "uuid": "{id}",
    "hex": "{id}",
    "id": "{id}",
    "number": "{n}",
}
_SPACES = re.compile(r"\s+")


def mask_message(message: str) -> str:
    """The message with what varies between tasks of one cause replaced by placeholders
    in braces ({n}, {id}, {date}, {path}), which no channel's markup reads.
    """

    def replace(match: re.Match[str]) -> str:
        kind = match.lastgroup or "keep"
        return match.group(0) if kind == "keep" else _MASK_TEXT[kind]

    return _SPACES.sub(" ", _MASKS.sub(replace, message)).strip()


@dataclass(frozen=True)
class Hint:
    code: str
    text: str
    url: str
    actionable: bool  # False: SLS retries it by itself; act only if it persists


_OSS_SHIPPING = "https://www.alibabacloud.com/help/en/sls/ship-log-data-from-log-service-to-oss"
_TUNNEL_ERRORS = "https://www.alibabacloud.com/help/en/maxcompute/user-guide/common-tunnel-errors-1"

# The documented task failures with their fixes; the URL on each row is the vendor page.
HINTS: tuple[Hint, ...] = (
    Hint(
        "UnAuthorized",
        "The shipping role may not write to the target: check that AliyunLogDefaultRole exists "
        "in the bucket owner's account, that its policy names the right account id and grants "
        "write access, and that the shipper's role ARN is valid.",
        _OSS_SHIPPING,
        True,
    ),
    Hint(
        "InvalidOssBucket",
        "The OSS bucket is missing, in another region than the project, or misnamed: fix the "
        "bucket in the shipper, then retry the failed tasks.",
        _OSS_SHIPPING,
        True,
    ),
    Hint(
        "ConfigNotExist",
        "The shipper's configuration is gone, usually because shipping was disabled: enable "
        "shipping again, then retry the failed tasks.",
        _OSS_SHIPPING,
        True,
    ),
    Hint(
        "NoSuchPartition",
        "The MaxCompute partition does not exist: create it or correct the shipper's "
        "partition settings.",
        _TUNNEL_ERRORS,
        True,
    ),
    Hint(
        "InvalidPartitionSpec",
        "The MaxCompute partition value is invalid: check the shipper's partition columns "
        "against the table.",
        _TUNNEL_ERRORS,
        True,
    ),
    Hint(
        "FlowExceeded",
        "The MaxCompute Tunnel quota is used up: raise the quota or spread the load.",
        _TUNNEL_ERRORS,
        True,
    ),
    Hint(
        "InternalServerError",
        "An SLS internal error: SLS retries failed tasks by itself after 15, 30 and 60 "
        "minutes, so act only if it persists.",
        _OSS_SHIPPING,
        False,
    ),
)
_HINTS_BY_CODE = {hint.code.lower(): hint for hint in HINTS}
_KNOWN_CODE_IN_TEXT = re.compile(
    r"\b(" + "|".join(re.escape(hint.code) for hint in HINTS) + r")\b", re.IGNORECASE
)


def _known(code_or_message: str) -> Hint | None:
    found = _KNOWN_CODE_IN_TEXT.search(code_or_message)
    return _HINTS_BY_CODE[found.group(1).lower()] if found else None


def hint_for(code: str | None, message: str = "") -> Hint | None:
    """The fix hint of a known code (by taskCode, else a known code named in the message)."""
    if code:
        return _HINTS_BY_CODE.get(code.strip().lower())
    return _known(message)


def cause_key(code: str | None, message: str) -> str:
    """taskCode (a known code in its documented spelling), else the masked message."""
    if code and code.strip():
        known = _HINTS_BY_CODE.get(code.strip().lower())
        return known.code if known else code.strip()
    return mask_message(message) or "(no message)"


@dataclass(frozen=True)
class Cause:
    key: str
    code: str | None
    example_message: str  # the first task's own message, unmasked
    hint: Hint | None
    tasks: tuple[tuple[str, FailedLike], ...]  # (target, task), in the order given

    @property
    def count(self) -> int:
        return len(self.tasks)

    @property
    def targets(self) -> tuple[tuple[str, int], ...]:
        """Each target this cause hits with its count, the most hit first."""
        counts: dict[str, int] = {}
        for target, _ in self.tasks:
            counts[target] = counts.get(target, 0) + 1
        return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    @property
    def actionable(self) -> bool:
        return self.hint.actionable if self.hint else True

    def example_ids(self, limit: int) -> tuple[str, ...]:
        return tuple(task.id for _, task in self.tasks[: max(limit, 0)])


def _rank(cause: Cause) -> tuple[int, int, str]:
    # A known fix first, then the unknown (a person must look), then what SLS retries.
    tier = 1 if cause.hint is None else 0 if cause.hint.actionable else 2
    return tier, -cause.count, cause.key


def group_causes(failures: Mapping[str, Sequence[FailedLike]]) -> tuple[Cause, ...]:
    """Distinct causes over every target's failed tasks, actionable first, then by count."""
    members: dict[str, list[tuple[str, FailedLike]]] = {}
    for target, tasks in failures.items():
        for task in tasks:
            members.setdefault(cause_key(task.code, task.message), []).append((target, task))
    causes = []
    for key, items in members.items():
        first = items[0][1]
        code = first.code.strip() if first.code and first.code.strip() else None
        causes.append(Cause(key, code, first.message, hint_for(code, first.message), tuple(items)))
    return tuple(sorted(causes, key=_rank))
