"""Feishu's variables, read into frozen settings; standard library only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipper_alert.redact import Secret

if TYPE_CHECKING:
    from shipper_alert.reader import Reader

WEBHOOK_URL = "FEISHU_WEBHOOK_URL"
SECRET = "FEISHU_SECRET"
VARIABLES = (WEBHOOK_URL, SECRET)  # the first switches the channel on
SECRETS = frozenset({WEBHOOK_URL, SECRET})


@dataclass(frozen=True)
class FeishuSettings:
    webhook_url: Secret
    secret: Secret | None


def read(reader: Reader) -> FeishuSettings | None:
    url = reader.url(WEBHOOK_URL)
    secret = reader.signing_secret(SECRET, None)
    return FeishuSettings(url, secret) if url else None
