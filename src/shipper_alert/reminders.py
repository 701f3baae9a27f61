"""When a monitor-error notice was last sent, remembered in the instance's temp directory.

The contract allows exactly one piece of state: a shipper that cannot be read is notified
at the first check that meets the error and then at most once per REMIND_INTERVAL,
"remembered in the instance's temporary directory (a fresh instance may repeat it once)".
Everything else is computed from the task list.

Entries are keyed by shipper and error code and hold the end of the window whose check
sent the notice; window ends are aligned for timer checks, so comparing them is exact
where comparing wall-clock times would drift by the trigger's jitter. A shipper that reads
again has its entries removed, so a later error is notified at once. The file is written
atomically; a missing or corrupt file only means a notice may be repeated.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

FILE_NAME = "shipper-alert-monitor-errors.json"
log = logging.getLogger(__name__)


class ReminderState:
    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE_NAME
        self._sent: dict[str, int] = {}
        self._dirty = False
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable reminder state %s: %s", self.path, exc)
            return
        if isinstance(data, dict):
            self._sent = {k: v for k, v in data.items() if isinstance(v, int)}

    @staticmethod
    def key(shipper: str, code: str) -> str:
        return f"{shipper}|{code}"

    def due(self, key: str, window_end: int, remind_interval: int) -> bool:
        last = self._sent.get(key)
        return last is None or window_end - last >= remind_interval

    def mark_sent(self, key: str, window_end: int) -> None:
        self._sent[key] = window_end
        self._dirty = True

    def forget_shipper(self, shipper: str) -> None:
        prefix = f"{shipper}|"
        for key in [k for k in self._sent if k.startswith(prefix)]:
            del self._sent[key]
            self._dirty = True

    def save(self) -> None:
        if not self._dirty:
            return
        import tempfile  # noqa: PLC0415 - only a check that sent something saves

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".reminders-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self._sent, handle, sort_keys=True)
            os.replace(tmp, self.path)
            self._dirty = False
        except OSError as exc:
            log.warning("cannot save reminder state %s: %s", self.path, exc)
