"""Load what a check renders and sends with while its SLS reads wait on the network.

A cold start loads jinja2, the renderer and the channels' notifiers (requests) only when a
check has findings, after its reads. Importing them on a daemon thread while the reads wait
for replies hides that in the waits instead of adding it after them. Only modules a check
with findings imports are loaded; one that fails to import here is left to fail, saying why,
where it is needed (a channel that cannot build its message is reported on its own).
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading

from shipper_alert.notify.registry import CHANNELS, Channels

log = logging.getLogger(__name__)


def modules_for(channels: Channels, dry_run: bool) -> list[str]:
    """What building (and unless `dry_run`, delivering) messages on `channels` imports,
    not yet imported."""
    names = ["jinja2", "shipper_alert.render"]
    names += [CHANNELS[name].notifier.split(":")[0] for name in channels.enabled()]
    if not channels.enabled():
        names.append("shipper_alert.notify.preview")  # every channel's text, shown
    elif not dry_run:
        names.append("shipper_alert.notify.delivery")
    return [name for name in names if name not in sys.modules]


def start(names: list[str]) -> threading.Thread | None:
    """Import `names` on a daemon thread, in order; None when there is nothing to load."""
    if not names:
        return None
    thread = threading.Thread(target=_load, args=(names,), name="shipper-alert preload")
    thread.daemon = True
    thread.start()
    return thread


def _load(names: list[str]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # imported again where it is needed, and reported there
            log.debug("preload: %s not loaded: %s: %s", name, type(exc).__name__, exc)
