"""Every channel, in one place: its settings module and its notifier.

Standard library only at import time, so that loading the configuration imports no HTTP
library: a notifier's module is imported only when its channel is configured. A settings
module has VARIABLES (the first switches the channel on), SECRETS and `read(reader)`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from shipper_alert.notify.dingtalk import settings as dingtalk
from shipper_alert.notify.email import settings as email
from shipper_alert.notify.feishu import settings as feishu
from shipper_alert.notify.slack import settings as slack
from shipper_alert.notify.webhook import settings as webhook
from shipper_alert.notify.wecom import settings as wecom

if TYPE_CHECKING:
    from shipper_alert.notify.base import Notifier


@dataclass(frozen=True)
class Channel:
    settings: ModuleType
    notifier: str  # "module:class", built with the channel's settings object


CHANNELS: dict[str, Channel] = {
    "dingtalk": Channel(dingtalk, "shipper_alert.notify.dingtalk.notifier:DingTalkNotifier"),
    "slack": Channel(slack, "shipper_alert.notify.slack.notifier:SlackNotifier"),
    "wecom": Channel(wecom, "shipper_alert.notify.wecom.notifier:WeComNotifier"),
    "feishu": Channel(feishu, "shipper_alert.notify.feishu.notifier:FeishuNotifier"),
    "webhook": Channel(webhook, "shipper_alert.notify.webhook.notifier:WebhookNotifier"),
    "email": Channel(email, "shipper_alert.notify.email.notifier:EmailNotifier"),
}


class Channels:
    """The configured channels' settings by name (None: not configured); immutable."""

    __slots__ = ("_by_name",)

    def __init__(self, **by_name: Any) -> None:
        unknown = sorted(set(by_name) - set(CHANNELS))
        if unknown:
            raise TypeError(f"unknown channel(s): {', '.join(unknown)}")
        given = {name: by_name.get(name) for name in CHANNELS}
        object.__setattr__(self, "_by_name", {k: v for k, v in given.items() if v is not None})

    def __getattr__(self, name: str) -> Any:
        if name in CHANNELS:
            return self._by_name.get(name)
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Channels is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Channels) and self._by_name == other._by_name

    def __hash__(self) -> int:
        return hash(tuple(self._by_name.items()))

    def __repr__(self) -> str:
        return f"Channels({', '.join(f'{k}={v!r}' for k, v in self._by_name.items())})"

    def get(self, name: str) -> Any:
        return self._by_name.get(name)

    def enabled(self) -> list[str]:
        return list(self._by_name)


def notifier_class(name: str) -> type[Notifier]:
    module_name, class_name = CHANNELS[name].notifier.split(":")
    return getattr(importlib.import_module(module_name), class_name)


def build_notifiers(channels: Channels) -> list[Notifier]:
    return [notifier_class(name)(channels.get(name)) for name in channels.enabled()]
