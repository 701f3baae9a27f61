"""`send-test`: one clearly marked test message to each configured channel, or to one.

The message goes through the same build and delivery path as an alert
(`handler.notify`), so a channel that works here works for the first real alert: the
same URL, signing, size fitting and retries. It describes one made-up shipper,
`send-test/test-message/nothing-is-wrong`, as resolved, and carries a note saying that it
is a test, so nobody mistakes it for an incident.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from shipper_alert.budget import Deadline
from shipper_alert.config import CHANNEL_VARIABLES, Settings
from shipper_alert.models import ShipperRef, Window
from shipper_alert.notify.registry import Channels
from shipper_alert.report import Report, ShipperReport

TEST_SHIPPER = ShipperRef("send-test", "test-message", "nothing-is-wrong")
TEST_NOTE = (
    "TEST MESSAGE from shipper-alert send-test: this checks that the channel works; "
    "nothing is wrong and no shipper was read."
)
SEND_TEST_TIMEOUT = 60.0  # seconds for every channel's delivery, retries included


def only_channel(settings: Settings, channel: str | None) -> tuple[Settings, str | None]:
    """The settings with only `channel` on, or a problem naming the channels there are."""
    enabled = settings.channels.enabled()
    if channel is None:
        return settings, None
    if channel not in enabled:
        known = ", ".join(enabled) or "none"
        if channel not in CHANNEL_VARIABLES:
            return settings, f"--channel: {channel!r} is not a channel (configured: {known})"
        first = CHANNEL_VARIABLES[channel][0]
        return settings, (
            f"--channel: {channel} is not configured ({first} is not set; configured: {known})"
        )
    channels = Channels(**{channel: settings.channels.get(channel)})
    return dataclasses.replace(settings, channels=channels), None


def test_report(settings: Settings, now: float) -> Report:
    end = int(now)
    window = Window(end - settings.rules.check_interval, end)
    shipper = ShipperReport(ref=TEST_SHIPPER, resolved=True)
    return Report(
        window=window,
        timezone=settings.timezone,
        timezone_name=settings.timezone_name,
        shippers=(shipper,),
        dry_run=False,
        checked_at=end,
        notes=(TEST_NOTE,),
        label=f"{settings.alert_label} TEST",
    )


def send_test(
    settings: Settings,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> list:
    """Deliver the test message; one DeliveryResult per channel."""
    from shipper_alert.handler import Outcome, notify  # noqa: PLC0415

    settings = dataclasses.replace(settings, dry_run=False)
    report = test_report(settings, now())
    outcome = Outcome(settings, report.window, report)
    notify(outcome, Deadline(SEND_TEST_TIMEOUT), sleep)
    return outcome.deliveries
