"""The generic webhook's variable, read into frozen settings; standard library only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipper_alert.redact import Secret

if TYPE_CHECKING:
    from shipper_alert.reader import Reader

URL = "WEBHOOK_URL"
VARIABLES = (URL,)
SECRETS = frozenset({URL})


@dataclass(frozen=True)
class WebhookSettings:
    url: Secret


def read(reader: Reader) -> WebhookSettings | None:
    url = reader.url(URL)
    return WebhookSettings(url) if url else None
