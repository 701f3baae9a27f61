"""The plain-text message, shown on a dry run with no channel configured."""

from __future__ import annotations

from shipper_alert.notify.base import Outgoing
from shipper_alert.render import Renderer
from shipper_alert.report import Report
from shipper_alert.view import build_view


def preview_messages(report: Report, renderer: Renderer) -> list[Outgoing]:
    view = build_view(report)
    return [
        Outgoing(
            channel="text",
            title=renderer.render("text.subject.j2", view=view),
            text=renderer.render("text.body.j2", view=view),
            payload=None,
        )
    ]
