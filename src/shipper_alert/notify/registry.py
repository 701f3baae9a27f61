"""Which notifier serves which configured channel; channel modules load only when used."""

from __future__ import annotations

import importlib

from shipper_alert.config import Channels
from shipper_alert.notify.base import Notifier, Outgoing
from shipper_alert.render import Renderer
from shipper_alert.report import Report
from shipper_alert.view import build_view

# channel name -> "module:class"; the settings object is Channels.<name>.
NOTIFIERS: dict[str, str] = {
    "dingtalk": "shipper_alert.notify.dingtalk:DingTalkNotifier",
    "slack": "shipper_alert.notify.slack:SlackNotifier",
    "wecom": "shipper_alert.notify.wecom:WeComNotifier",
    "feishu": "shipper_alert.notify.feishu:FeishuNotifier",
    "webhook": "shipper_alert.notify.webhook:WebhookNotifier",
    "email": "shipper_alert.notify.mail:EmailNotifier",
}


def build_notifiers(channels: Channels) -> list[Notifier]:
    notifiers = []
    for name in channels.enabled():
        module_name, class_name = NOTIFIERS[name].split(":")
        module = importlib.import_module(module_name)
        notifiers.append(getattr(module, class_name)(getattr(channels, name)))
    return notifiers


def preview_messages(report: Report, renderer: Renderer) -> list[Outgoing]:
    """The plain-text message, shown on a dry run with no channel configured."""
    view = build_view(report)
    return [
        Outgoing(
            channel="text",
            title=renderer.render("text.subject.j2", view=view),
            text=renderer.render("text.body.j2", view=view),
            payload=None,
        )
    ]
