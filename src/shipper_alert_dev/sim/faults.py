"""Injected faults: how the simulator misbehaves on purpose.

A `Fault` replaces (or delays, or swallows) the answer to the requests it matches, so that
tests can exercise a client's retries, time budget and response validation:

- an error response: `Fault(status=500, error_code="InternalServerError", error_message=...)`,
  or any status with a raw body (`body="<html>bad gateway</html>"`) or no body at all;
- a bad 200: `Fault(status=200, body="not json")` or `Fault(status=200, json={...})`;
- latency: `Fault(latency=0.5)` waits, then answers normally (or with the fault's response);
- a dropped connection: `Fault(drop=True)` reads the request and closes the connection
  without answering.

Matching: `api` (one of `APIS`), `project`, `logstore` and `shipper` narrow it (None = any);
`times` is how many matching requests it affects (None = every one). Faults are tried in the
order they were added; the first one that matches and has uses left applies.

The 5xx codes follow https://help.aliyun.com/en/sls/developer-reference/error-codes
(InternalServerError 500, ServerBusy 503).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any

API_GET_SHIPPER_STATUS = "GetShipperStatus"
API_RETRY_SHIPPER_TASK = "RetryShipperTask"
API_LIST_SHIPPER = "ListShipper"
API_LIST_LOGSTORES = "ListLogStores"
# The export-job and GetLogs APIs, by the vendor's names (sim/exports.py serves them).
EXPORT_APIS = (
    "GetLogs",
    "ListExport",
    "GetExport",
    "ListOSSExports",
    "GetOSSExport",
    "ListMaxComputeExports",
    "GetMaxComputeExport",
    "ListOSSHDFSExports",
    "GetOSSHDFSExport",
)
APIS = (
    API_GET_SHIPPER_STATUS,
    API_RETRY_SHIPPER_TASK,
    API_LIST_SHIPPER,
    API_LIST_LOGSTORES,
    *EXPORT_APIS,
)


class FaultError(ValueError):
    """A fault description that cannot be used; each problem names the bad field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Fault:
    """One kind of misbehaviour, applied to up to `times` matching requests (None = all)."""

    status: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    body: str | bytes | None = None
    json: Any = None
    latency: float = 0.0
    drop: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)
    api: str | None = None
    project: str | None = None
    logstore: str | None = None
    shipper: str | None = None
    times: int | None = 1

    def __post_init__(self) -> None:
        problems = _problems({name: getattr(self, name) for name in _FIELDS}, "fault")
        if problems:
            raise FaultError(problems)

    @property
    def replaces_response(self) -> bool:
        return self.status is not None

    def matches(
        self, api: str | None, project: str | None, logstore: str | None, shipper: str | None
    ) -> bool:
        return (
            (self.api is None or self.api == api)
            and (self.project is None or self.project == project)
            and (self.logstore is None or self.logstore == logstore)
            and (self.shipper is None or self.shipper == shipper)
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = "fault") -> Fault:
        """Build a fault from its scenario-file form (camelCase keys)."""
        if not isinstance(data, Mapping):
            raise FaultError([f"{path}: must be an object"])
        known = {
            "status": "status",
            "errorCode": "error_code",
            "errorMessage": "error_message",
            "body": "body",
            "json": "json",
            "latency": "latency",
            "drop": "drop",
            "headers": "headers",
            "api": "api",
            "project": "project",
            "logstore": "logstore",
            "shipper": "shipper",
            "times": "times",
        }
        problems = [f"{path}.{key}: unknown field" for key in data if key not in known]
        kwargs = {known[key]: value for key, value in data.items() if key in known}
        if problems:
            raise FaultError(problems)
        defaults = {f.name: _default(f) for f in fields(cls)}
        problems = _problems({**defaults, **kwargs}, path)
        if problems:
            raise FaultError(problems)
        return cls(**kwargs)

    def describe(self) -> str:
        what: list[str] = []
        if self.latency:
            what.append(f"latency {self.latency}s")
        if self.drop:
            what.append("drop")
        if self.status is not None:
            what.append(
                f"status {self.status}" + (f" {self.error_code}" if self.error_code else "")
            )
        scope = [
            f"{name}={getattr(self, name)}"
            for name in ("api", "project", "logstore", "shipper")
            if getattr(self, name) is not None
        ]
        times = "always" if self.times is None else f"x{self.times}"
        return " ".join(what) + (f" [{' '.join(scope)}]" if scope else "") + f" {times}"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _default(f: Field[Any]) -> Any:
    if f.default_factory is not MISSING:
        return f.default_factory()
    return f.default


def _problems(values: Mapping[str, Any], path: str) -> list[str]:
    """Every problem with a fault's field values, each naming `path.field`."""
    return _response_problems(values, path) + _scope_problems(values, path)


def _response_problems(values: Mapping[str, Any], path: str) -> list[str]:
    found: list[str] = []
    status = values["status"]
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599
    ):
        found.append(f"{path}.status: must be an HTTP status code 100..599, not {status!r}")
    bodies = [name for name in ("errorCode", "body", "json") if values[_snake(name)] is not None]
    if len(bodies) > 1:
        found.append(f"{path}: give only one of errorCode, body, json (got {', '.join(bodies)})")
    if values["error_message"] is not None and values["error_code"] is None:
        found.append(f"{path}.errorMessage: needs an errorCode")
    if bodies and status is None:
        found.append(f"{path}.status: required with {bodies[0]}")
    if values["body"] is not None and not isinstance(values["body"], (str, bytes)):
        found.append(f"{path}.body: must be a string")
    latency = values["latency"]
    if isinstance(latency, bool) or not isinstance(latency, (int, float)):
        found.append(f"{path}.latency: must be a number of seconds, not {latency!r}")
        latency = 0
    elif latency < 0:
        found.append(f"{path}.latency: must not be negative")
    drop = values["drop"]
    if not isinstance(drop, bool):
        found.append(f"{path}.drop: must be true or false, not {drop!r}")
    elif drop and (status is not None or bodies):
        found.append(f"{path}.drop: a dropped connection has no status or body")
    if status is None and drop is not True and not latency:
        found.append(f"{path}: does nothing; give a status, a latency or drop")
    headers = values["headers"]
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        found.append(f"{path}.headers: must be an object of strings")
    return found


def _scope_problems(values: Mapping[str, Any], path: str) -> list[str]:
    found: list[str] = []
    api = values["api"]
    if api is not None and api not in APIS:
        found.append(f"{path}.api: must be one of {', '.join(APIS)}, not {api!r}")
    for name in ("project", "logstore", "shipper", "error_code", "error_message"):
        value = values[name]
        if value is not None and not isinstance(value, str):
            found.append(f"{path}.{_camel(name)}: must be a string")
    times = values["times"]
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        found.append(f"{path}.times: must be a positive integer or null, not {times!r}")
    return found


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


_FIELDS = tuple(f.name for f in fields(Fault))


class ArmedFault:
    """A fault installed in a simulator, with its remaining uses and hit count."""

    def __init__(self, fault: Fault) -> None:
        self.fault = fault
        self.remaining = fault.times
        self.hits = 0

    @property
    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0

    def __repr__(self) -> str:
        return f"ArmedFault({self.fault.describe()}, hits={self.hits}, remaining={self.remaining})"


class FaultSet:
    """The faults of one simulator; `take()` consumes one use of the first match."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[ArmedFault] = []

    def add(self, fault: Fault) -> ArmedFault:
        armed = ArmedFault(fault)
        with self._lock:
            self._armed.append(armed)
        return armed

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def armed(self) -> list[ArmedFault]:
        with self._lock:
            return list(self._armed)

    def take(
        self, api: str | None, project: str | None, logstore: str | None, shipper: str | None
    ) -> Fault | None:
        with self._lock:
            for armed in self._armed:
                if armed.exhausted or not armed.fault.matches(api, project, logstore, shipper):
                    continue
                armed.hits += 1
                if armed.remaining is not None:
                    armed.remaining -= 1
                return armed.fault
        return None
