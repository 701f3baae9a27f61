"""Slack's variable, read into frozen settings; standard library only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipper_alert.redact import Secret

if TYPE_CHECKING:
    from shipper_alert.reader import Reader

WEBHOOK_URL = "SLACK_WEBHOOK_URL"
VARIABLES = (WEBHOOK_URL,)
SECRETS = frozenset({WEBHOOK_URL})


@dataclass(frozen=True)
class SlackSettings:
    webhook_url: Secret


def read(reader: Reader) -> SlackSettings | None:
    url = reader.url(WEBHOOK_URL)
    return SlackSettings(url) if url else None
