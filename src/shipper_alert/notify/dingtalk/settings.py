"""DingTalk's variables, read into frozen settings; standard library only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipper_alert.redact import Secret

if TYPE_CHECKING:
    from shipper_alert.reader import Reader

WEBHOOK_URL = "DINGTALK_WEBHOOK_URL"
SECRET = "DINGTALK_SECRET"
AT_MOBILES = "DINGTALK_AT_MOBILES"
AT_ALL = "DINGTALK_AT_ALL"
VARIABLES = (WEBHOOK_URL, SECRET, AT_MOBILES, AT_ALL)  # the first switches the channel on
SECRETS = frozenset({WEBHOOK_URL, SECRET})
# Signing secrets start "SEC":
# https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages
SECRET_PREFIX = "SEC"


@dataclass(frozen=True)
class DingTalkSettings:
    webhook_url: Secret
    secret: Secret | None
    at_mobiles: tuple[str, ...]
    at_all: bool


def read(reader: Reader) -> DingTalkSettings | None:
    url = reader.url(WEBHOOK_URL)
    secret = reader.signing_secret(SECRET, SECRET_PREFIX)
    mobiles = reader.mobiles(AT_MOBILES)
    at_all = reader.boolean(AT_ALL, False)
    return DingTalkSettings(url, secret, mobiles, at_all) if url else None
