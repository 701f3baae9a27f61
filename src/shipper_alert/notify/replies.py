"""A robot's JSON reply codes as a table: delivered, retry (with its wait rule) or permanent.

Each chat channel whose 2xx body carries a status code (DingTalk and WeCom `errcode`,
Feishu `code`) lists its codes in one `ReplyTable`, the vendor URL beside each group, and
`classify` turns a reply into None (delivered) or the `DeliveryFailure` the delivery stage
acts on; the same shape `sls/errors.py` gives SLS. A code not in the table is permanent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shipper_alert.notify.base import DeliveryFailure
from shipper_alert.notify.http import excerpt
from shipper_alert.redact import SecretScrubber

log = logging.getLogger(__name__)

DELIVERED = "delivered"
RETRY = "retry"
PERMANENT = "permanent"


@dataclass(frozen=True)
class Exchange:
    """What a rule may look at besides the code: the reply, its headers, the time, the size."""

    reply: Mapping[str, Any]
    message: str  # the reply's own text (errmsg, msg), scrubbed and shortened
    headers: Mapping[str, str] = field(default_factory=dict)
    now: float = 0.0
    sent_bytes: int = 0


Hint = Callable[[Exchange], "str | None"]


@dataclass(frozen=True)
class Rule:
    """What one code means. `bug`: our own fitting or payload is wrong, logged as an error."""

    outcome: str
    hint: str | Hint | None = None
    wait: Callable[[Exchange], float | None] | None = None
    bug: bool = False


PERMANENT_RULE = Rule(PERMANENT)


@dataclass(frozen=True)
class ReplyTable:
    service: str
    code_keys: tuple[str, ...]  # where the code is, first found wins (legacy names last)
    message_keys: tuple[str, ...]
    rules: Mapping[int, Rule]

    def rule(self, code: int) -> Rule:
        return self.rules.get(code, PERMANENT_RULE)


def reply_code(reply: Mapping[str, Any], key: str) -> int | None:
    """The integer status a robot's JSON reply carries in `key` (`errcode`, `code`)."""
    try:
        return int(reply.get(key))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def unexpected_reply(where: str, reply: Mapping[str, Any], key: str) -> DeliveryFailure:
    """A 2xx whose body lacks the status field: retryable (a proxy's page, a glitch)."""
    text = SecretScrubber.scrub(excerpt(json.dumps(reply, ensure_ascii=False)))
    return DeliveryFailure(f"{where}: unexpected response without {key!r}: {text}", retryable=True)


def classify(
    table: ReplyTable,
    reply: Mapping[str, Any],
    where: str,
    *,
    headers: Mapping[str, str] | None = None,
    now: float = 0.0,
    sent_bytes: int = 0,
    scrub: Callable[[str], str] = SecretScrubber.scrub,
) -> DeliveryFailure | None:
    """None when the reply says the message was delivered, else the classified failure."""
    codes = (reply_code(reply, key) for key in table.code_keys)
    code = next((c for c in codes if c is not None), None)
    if code is None:
        return unexpected_reply(where, reply, table.code_keys[0])
    rule = table.rule(code)
    if rule.outcome == DELIVERED:
        return None
    raw = next((reply[key] for key in table.message_keys if key in reply), "")
    exchange = Exchange(reply, scrub(excerpt(str(raw))), headers or {}, now, sent_bytes)
    hint = rule.hint(exchange) if callable(rule.hint) else rule.hint
    label = table.code_keys[0]
    if rule.bug:
        log.error(
            "%s refused a message with %s %d: shipper-alert's size fitting or payload is "
            "wrong; please report this",
            table.service,
            label,
            code,
        )
    detail = f"{where}: {label} {code}: {exchange.message}" + (f" ({hint})" if hint else "")
    return DeliveryFailure(
        detail,
        retryable=rule.outcome == RETRY,
        retry_after=rule.wait(exchange) if rule.wait else None,
    )
