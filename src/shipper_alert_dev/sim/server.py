"""The local SLS simulator: a loopback HTTP server that speaks the LogShipper APIs.

It serves, for the project named by the first label of the `Host` header:
- GetShipperStatus  `GET /logstores/{logstore}/shipper/{shipper}/tasks`
- RetryShipperTask  `PUT /logstores/{logstore}/shipper/{shipper}/tasks`
- ListShipper       `GET /logstores/{logstore}/shipper`
- ListLogStores     `GET /logstores`
- the export-job views and GetLogs over diagnostic rows (sim/exports.py, sim/query.py)
with the parameters, limits, response bodies and error codes of GetShipperStatus
(https://www.alibabacloud.com/help/doc-detail/29027.htm; 48-hour limit, size at
most 500, at most 10 ids per retry, `{"errorCode", "errorMessage"}` bodies, an
`x-log-requestid` on every response), and it checks the v1 signature, the required headers
and the `Date` skew (15 minutes) as docs/vendors.md, "SLS API", describes; `hmac-sha1` and
the 2020-12-30 SDKs' `hmac-sha256` signatures are both verified, by the method each request names.

Where the vendor's documents leave a detail open, the simulator picks one and keeps to it:
- time range: taskCreateTime in [from, to], both ends included; order: by a hash of the task
  id, stable across requests but unrelated to time;
- `statistics` counts every task in the range, whatever the `status` filter;
- RetryShipperTask ignores ids that are unknown or not failed; `retried` records only the
  calls that were accepted;
- a Content-MD5 that does not match the body, a malformed Authorization, or a Host naming
  no project answer 400 ParameterInvalid / ParameterInvalid / InvalidHost;
- `x-log-date` stands in for a missing `Date` (the SDK sends both, for proxies that drop
  Date), and it is never part of the string-to-sign.

Injected faults (faults.py) apply after the request is read and its signature checked, and
before the API answers: a fault's response wins over an authentication error.

Only loopback addresses are ever bound. The server speaks HTTP/1.1 with keep-alive, and
`stop()` closes idle client connections so that every thread ends.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from shipper_alert_dev.sim import exports, shipper_api
from shipper_alert_dev.sim.apierror import ApiError
from shipper_alert_dev.sim.clock import Clock, RealClock
from shipper_alert_dev.sim.faults import (
    API_GET_SHIPPER_STATUS,
    API_LIST_LOGSTORES,
    API_LIST_SHIPPER,
    ArmedFault,
    Fault,
    FaultSet,
)
from shipper_alert_dev.sim.http_server import HttpServer, loopback_address
from shipper_alert_dev.sim.responses import (
    Response,
    error_response,
    fault_response,
    json_response,
    new_request_id,
)
from shipper_alert_dev.sim.scenario import Credential, Scenario
from shipper_alert_dev.sim.shipper_api import Route
from shipper_alert_dev.sim.sls_auth import check_headers, check_signature

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the simulator saw it, for test assertions.

    `path` and `params` are decoded; `headers` have lower-case names; `authorized` says
    whether the headers and signature were valid; `status` is what was answered (None when a
    fault dropped the connection); `error_code` is the answered errorCode, if any.
    """

    api: str | None
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    project: str | None
    body: bytes
    authorized: bool
    status: int | None = None
    error_code: str | None = None
    clock_time: float = 0.0


def project_from_host(host: str | None) -> str | None:
    """The project in `Host: <project>.<endpoint>[:port]`; None when Host names none."""
    if not host:
        return None
    host = host.strip()
    if host.startswith("["):  # a bare IPv6 literal, perhaps with a port
        return None
    bare = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        pass
    else:
        return None
    label = bare.split(".", 1)[0]
    return label or None


class SlsSimulator:
    """A local SLS that serves a `Scenario`; see the module docstring for what it does.

    `scenario` may be a `Scenario`, a dict or a JSON file path (loaded with the clock's now
    as its reference time), or None for an empty one. Use it as a context manager, or call
    `start()` and `stop()`.
    """

    def __init__(
        self,
        scenario: Scenario | Mapping[str, Any] | str | os.PathLike[str] | None = None,
        *,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        check_date: bool = True,
    ) -> None:
        self.clock: Clock = clock if clock is not None else RealClock()
        self.scenario = Scenario.load(scenario, now=self.clock.now())
        self.check_date = check_date
        self._bind_host, self._family = loopback_address(host)
        self._requested_port = port
        self._faults = FaultSet()
        for fault in self.scenario.faults:
            self._faults.add(fault)
        self._records_lock = threading.Lock()
        self.received: list[ReceivedRequest] = []
        self.retried: list[tuple[str, str, str, list[str]]] = []
        self._server: HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle --

    def start(self) -> SlsSimulator:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = HttpServer((self._bind_host, self._requested_port), self._family, self)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},  # how soon stop() is noticed
            name=f"sls-sim-{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.debug("SLS simulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> SlsSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    # -- where and how to reach it --

    @property
    def host(self) -> str:
        return self._bind_host

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if self._family == socket.AF_INET6 else self.host
        return f"http://{host}:{self.port}"

    @property
    def endpoint(self) -> str:
        return self.url

    @property
    def credentials(self) -> list[Credential]:
        """The credentials the simulator accepts (the scenario's, or the default pair)."""
        return self.scenario.accepted_credentials()

    @property
    def credential(self) -> Credential:
        """The first accepted credential: the one to hand to a client."""
        return self.credentials[0]

    # -- faults and records --

    def inject(self, fault: Fault) -> ArmedFault:
        return self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def faults(self) -> list[ArmedFault]:
        return self._faults.armed()

    def requests_for(self, api: str) -> list[ReceivedRequest]:
        with self._records_lock:
            return [r for r in self.received if r.api == api]

    def clear_records(self) -> None:
        with self._records_lock:
            self.received.clear()
            self.retried.clear()

    # -- one request --

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        now = self.clock.now()
        split = urlsplit(target)
        path = unquote(split.path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        lowered = {name.lower(): value for name, value in headers.items()}
        project = project_from_host(lowered.get("host"))
        route = shipper_api.route(method, split.path, dict(pairs))
        auth_error = self._authenticate(method, path, pairs, lowered, body, now)

        fault = self._faults.take(route.api, project, route.logstore, route.shipper)
        if fault is not None and fault.latency:
            self._stopping.wait(fault.latency)
        if fault is not None and fault.drop:
            response = Response(drop=True)
        elif fault is not None and fault.status is not None:
            response = fault_response(fault)
        elif auth_error is not None:
            response = error_response(auth_error)
        else:
            try:
                response = self._serve(route, method, project, lowered, pairs, body, now)
            except ApiError as error:
                response = error_response(error)
            except Exception:  # a simulator bug must still answer, as a 500
                logger.exception("SLS simulator failed on %s %s", method, target)
                response = error_response(
                    ApiError(500, "InternalServerError", "internal server error")
                )
        if not response.drop:
            response.headers.setdefault("x-log-requestid", new_request_id())
        record = ReceivedRequest(
            api=route.api,
            method=method,
            path=path,
            params=dict(pairs),
            headers=lowered,
            project=project,
            body=body,
            authorized=auth_error is None,
            status=None if response.drop else response.status,
            error_code=response.error_code,
            clock_time=now,
        )
        with self._records_lock:
            self.received.append(record)
        return response

    def _authenticate(
        self,
        method: str,
        path: str,
        pairs: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes,
        now: float,
    ) -> ApiError | None:
        try:
            check_headers(headers, body, now, self.check_date)
            check_signature(method, path, pairs, headers, self.credentials)
        except ApiError as error:
            return error
        return None

    # -- the APIs --

    def _serve(
        self,
        route: Route,
        method: str,
        project_name: str | None,
        headers: dict[str, str],
        pairs: list[tuple[str, str]],
        body: bytes,
        now: float,
    ) -> Response:
        if route.error is not None:
            raise route.error
        if project_name is None:
            raise ApiError(
                400,
                "InvalidHost",
                f"Host {headers.get('host')} names no project; send Host: <project>.<endpoint>.",
            )
        params = dict(pairs)
        with self.scenario.lock:
            project = self.scenario.project(project_name)
            if project is None:
                raise ApiError(404, "ProjectNotExist", f"Project {project_name} does not exist")
            if route.api in exports.APIS:
                name = route.logstore if route.api == exports.API_GET_LOGS else route.job
                payload, extra = exports.serve(
                    self.scenario.exports,
                    route.api,
                    project_name,
                    name,
                    params,
                    body,
                    shipper_api.int_param,
                )
                response = json_response(payload)
                response.headers.update(extra)
                return response
            if route.api == API_LIST_LOGSTORES:
                return shipper_api.list_logstores(list(project.logstores), params)
            logstore = project.logstores.get(route.logstore or "")
            if logstore is None:
                raise ApiError(404, "LogStoreNotExist", f"logstore {route.logstore} does not exist")
            if route.api == API_LIST_SHIPPER:
                return shipper_api.list_shipper(list(logstore.shippers), params)
            shipper = logstore.shippers.get(route.shipper or "")
            if shipper is None:
                raise ApiError(400, "ShipperNotExist", f"shipper {route.shipper} does not exist")
            if route.api == API_GET_SHIPPER_STATUS:
                return shipper_api.get_shipper_status(shipper, params, now)
            ids = shipper_api.retry_ids(body)
            for task_id in ids:
                task = shipper.tasks.get(task_id)
                if task is not None:
                    task.retry(int(now))
            with self._records_lock:
                self.retried.append((project.name, logstore.name, shipper.name, ids))
            return Response(200)
