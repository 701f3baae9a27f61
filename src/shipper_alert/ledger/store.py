"""Where the ledger lives, and the claim that keeps two invocations from sending twice.

A store holds two kinds of objects under its prefix: `state.json` (the document, replaced
after each delivery) and `claims/<generation>.<attempt>` (created, never replaced). OSS has
no compare-and-swap on PutObject (a conditional header there is `NotImplemented`,
https://help.aliyun.com/en/oss/user-guide/0017-00000245), but it refuses to replace an
object with `x-oss-forbid-overwrite: true` (409 FileAlreadyExists,
https://www.alibabacloud.com/help/en/oss/developer-reference/putobject). So an invocation
that read generation G creates `claims/G.0` before it delivers: the one that creates it
sends, any other that read G sends nothing. A claim carries its expiry (the function's
timeout); one left by an invocation that died is taken over as `claims/G.1`, and so on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from shipper_alert.ledger.document import LedgerError

STATE_NAME = "state.json"
CLAIMS = "claims"
MAX_TAKEOVERS = 8


@dataclass(frozen=True)
class Claim:
    generation: int
    attempt: int


class Store:
    """The objects of one ledger; subclasses implement the four object operations."""

    description = "ledger"

    def read(self, name: str) -> bytes | None:
        """The object's bytes, None when it does not exist; LedgerError otherwise."""
        raise NotImplementedError

    def replace(self, name: str, body: bytes) -> None:
        raise NotImplementedError

    def create(self, name: str, body: bytes) -> bool:
        """Create the object unless it exists: True when this call created it."""
        raise NotImplementedError

    def close(self) -> None:
        return None

    def claim(self, generation: int, now: float, lease: float) -> Claim | None:
        """Claim the right to deliver on top of `generation`; None if another holds it."""
        body = json.dumps({"expires": now + lease}).encode("utf-8")
        for attempt in range(MAX_TAKEOVERS):
            name = f"{CLAIMS}/{generation}.{attempt}"
            if self.create(name, body):
                return Claim(generation, attempt)
            if not _expired(self.read(name), now):
                return None
        return None


def _expired(raw: bytes | None, now: float) -> bool:
    if raw is None:
        return False  # it existed a moment ago: treat it as held
    try:
        return float(json.loads(raw.decode("utf-8"))["expires"]) <= now
    except (ValueError, KeyError, TypeError):
        return True  # unreadable claims would block the ledger for ever


class FileStore(Store):
    """`file:///path`: a folder on a local disk (local runs, tests)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.description = f"file://{folder}"

    def _path(self, name: str) -> Path:
        return self.folder / name

    def read(self, name: str) -> bytes | None:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise LedgerError(f"cannot read {self.description}/{name}: {exc.strerror}") from None

    def _write_aside(self, path: Path, body: bytes) -> str:
        """`body` in a new temporary file beside `path`; its name."""
        import tempfile  # noqa: PLC0415 - a file ledger only; every check loads this module

        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ledger-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        return tmp

    def replace(self, name: str, body: bytes) -> None:
        try:
            os.replace(self._write_aside(self._path(name), body), self._path(name))
        except OSError as exc:
            raise LedgerError(f"cannot write {self.description}/{name}: {exc.strerror}") from None

    def create(self, name: str, body: bytes) -> bool:
        # Written aside, then linked into place: link() refuses an existing name, and a
        # reader never sees a claim without its body.
        try:
            tmp = self._write_aside(self._path(name), body)
            try:
                os.link(tmp, self._path(name))
            except FileExistsError:
                return False
            finally:
                os.unlink(tmp)
        except OSError as exc:
            raise LedgerError(f"cannot create {self.description}/{name}: {exc.strerror}") from None
        return True
