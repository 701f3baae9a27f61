"""The ledger document: a small versioned JSON of what was notified, per target.

{"version": 1, "generation": 12, "checkedThrough": <end of the last window checked>,
 "targets": {"p/l/s": {"notified": {"<task id>": <window end>}, "episode": {...} | null}}}

Windows tile time, so "every window up to checkedThrough was checked" is the whole record
of checked windows. Notified ids older than the API's 48 hours are dropped on every write
(GetShipperStatus cannot show them again, https://www.alibabacloud.com/help/doc-detail/29027.htm),
which bounds the document by the tasks of two days.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from shipper_alert.policy import Episode

VERSION = 1
RETENTION = 48 * 3600
# A document larger than this is not ours (or is corrupt): refuse it rather than parse it.
MAX_BYTES = 8 * 1024 * 1024


class LedgerError(Exception):
    """The ledger cannot be read or written; the message never holds a secret."""


@dataclass
class TargetRecord:
    notified: dict[str, int] = field(default_factory=dict)
    episode: Episode | None = None


@dataclass
class Document:
    generation: int = 0
    checked_through: int | None = None
    targets: dict[str, TargetRecord] = field(default_factory=dict)

    def target(self, name: str) -> TargetRecord:
        return self.targets.setdefault(name, TargetRecord())

    def prune(self, now: float) -> None:
        """Forget ids the API no longer serves, and targets with nothing left."""
        oldest = now - RETENTION
        for name in list(self.targets):
            record = self.targets[name]
            record.notified = {k: v for k, v in record.notified.items() if v >= oldest}
            if not record.notified and record.episode is None:
                del self.targets[name]

    def to_bytes(self) -> bytes:
        body = {
            "version": VERSION,
            "generation": self.generation,
            "checkedThrough": self.checked_through,
            "targets": {
                name: {
                    "notified": dict(sorted(record.notified.items())),
                    "episode": record.episode.to_json() if record.episode else None,
                }
                for name, record in sorted(self.targets.items())
            },
        }
        return json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Document:
        if len(raw) > MAX_BYTES:
            raise LedgerError(f"the ledger is {len(raw)} bytes, more than {MAX_BYTES}")
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or data.get("version") != VERSION:
                version = data.get("version") if isinstance(data, dict) else None
                raise LedgerError(f"the ledger has version {version!r}, expected {VERSION}")
            checked = data["checkedThrough"]
            targets = {
                str(name): TargetRecord(
                    {str(k): int(v) for k, v in record["notified"].items()},
                    Episode.from_json(record["episode"]) if record["episode"] else None,
                )
                for name, record in data["targets"].items()
            }
            return cls(int(data["generation"]), None if checked is None else int(checked), targets)
        except LedgerError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise LedgerError(
                f"the ledger is not a valid document ({type(exc).__name__})"
            ) from None
