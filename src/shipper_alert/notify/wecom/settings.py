"""WeCom's variables, read into frozen settings; standard library only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipper_alert.redact import Secret

if TYPE_CHECKING:
    from shipper_alert.reader import Reader

WEBHOOK_URL = "WECOM_WEBHOOK_URL"
MENTIONED_MOBILES = "WECOM_MENTIONED_MOBILES"
VARIABLES = (WEBHOOK_URL, MENTIONED_MOBILES)  # the first switches the channel on
SECRETS = frozenset({WEBHOOK_URL})


@dataclass(frozen=True)
class WeComSettings:
    webhook_url: Secret
    mentioned_mobiles: tuple[str, ...]


def read(reader: Reader) -> WeComSettings | None:
    url = reader.url(WEBHOOK_URL)
    mobiles = reader.mobiles(MENTIONED_MOBILES)
    return WeComSettings(url, mobiles) if url else None
