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

import contextlib
import email.utils
import hmac
import ipaddress
import json
import logging
import os
import secrets
import socket
import socketserver
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from shipper_alert.models import TASK_FAIL, TASK_RUNNING, TASK_STATUSES, TASK_SUCCESS
from shipper_alert.sls import signing
from shipper_alert_dev.sim import exports
from shipper_alert_dev.sim.apierror import ApiError
from shipper_alert_dev.sim.clock import Clock, RealClock
from shipper_alert_dev.sim.faults import (
    API_GET_SHIPPER_STATUS,
    API_LIST_LOGSTORES,
    API_LIST_SHIPPER,
    API_RETRY_SHIPPER_TASK,
    ArmedFault,
    Fault,
    FaultSet,
)
from shipper_alert_dev.sim.scenario import Credential, Scenario, ShipperSpec, TaskView

logger = logging.getLogger(__name__)

QUERY_WINDOW_SECONDS = 48 * 3600  # "only support query last 48 hours task status"
MAX_PAGE_SIZE = 500
MAX_RETRY_IDS = 10
DATE_TOLERANCE_SECONDS = 15 * 60  # RequestTimeExpired beyond 15 minutes of skew
MAX_BODY_BYTES = 10 * 1024 * 1024  # PostBodyTooLarge
IDLE_CONNECTION_TIMEOUT = 30.0


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


@dataclass
class _Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    error_code: str | None = None


@dataclass(frozen=True)
class _Route:
    api: str | None
    logstore: str | None = None
    shipper: str | None = None
    error: ApiError | None = None
    job: str | None = None


def _json_response(payload: Any, status: int = 200) -> _Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return _Response(status, body, {"Content-Type": "application/json"})


def _error_response(error: ApiError) -> _Response:
    response = _json_response(
        {"errorCode": error.code, "errorMessage": error.message}, error.status
    )
    response.error_code = error.code
    return response


def new_request_id() -> str:
    """24 upper-case hex digits, like `5642FC2399248C8F7B0145FD`."""
    return secrets.token_hex(12).upper()


def loopback_address(host: str) -> tuple[str, socket.AddressFamily]:
    """The address to bind for `host` and its family; only loopback addresses pass."""
    candidate = host.strip()
    if candidate.lower() == "localhost":
        candidate = "127.0.0.1"
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise ValueError(
            f"the SLS simulator only listens on a loopback address (127.0.0.1, ::1 or "
            f"localhost), not {host!r}"
        )
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    return str(address), family


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
        self._server: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle --

    def start(self) -> SlsSimulator:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _HttpServer((self._bind_host, self._requested_port), self._family, self)
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

    def _handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> _Response:
        now = self.clock.now()
        split = urlsplit(target)
        path = unquote(split.path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        lowered = {name.lower(): value for name, value in headers.items()}
        project = project_from_host(lowered.get("host"))
        route = _route(method, split.path, dict(pairs))
        auth_error = self._authenticate(method, path, pairs, lowered, body, now)

        fault = self._faults.take(route.api, project, route.logstore, route.shipper)
        if fault is not None and fault.latency:
            self._stopping.wait(fault.latency)
        if fault is not None and fault.drop:
            response = _Response(drop=True)
        elif fault is not None and fault.status is not None:
            response = _fault_response(fault)
        elif auth_error is not None:
            response = _error_response(auth_error)
        else:
            try:
                response = self._serve(route, method, project, lowered, pairs, body, now)
            except ApiError as error:
                response = _error_response(error)
            except Exception:  # a simulator bug must still answer, as a 500
                logger.exception("SLS simulator failed on %s %s", method, target)
                response = _error_response(
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
            self._check_headers(headers, body, now)
            self._check_signature(method, path, pairs, headers)
        except ApiError as error:
            return error
        return None

    def _check_headers(self, headers: dict[str, str], body: bytes, now: float) -> None:
        if "host" not in headers:
            raise ApiError(400, "MissingHost", "Host does not exist in http header.")
        date = headers.get("date") or headers.get("x-log-date")
        if not date:
            raise ApiError(400, "MissingDate", "Date does not exist in http header.")
        version = headers.get("x-log-apiversion")
        if version is None:
            raise ApiError(
                400, "MissingAPIVersion", "x-log-apiversion does not exist in http header."
            )
        if version != signing.API_VERSION:
            raise ApiError(400, "InvalidAPIVersion", f"x-log-apiversion {version} is unsupported.")
        method = headers.get("x-log-signaturemethod")
        if method is None:
            raise ApiError(
                400,
                "MissingSignatureMethod",
                "x-log-signaturemethod does not exist in http header.",
            )
        if method not in signing.SIGNATURE_METHODS:
            raise ApiError(
                400, "InvalidSignatureMethod", f"x-log-signaturemethod {method} is unsupported."
            )
        raw_size = headers.get("x-log-bodyrawsize")
        if raw_size is None:
            raise ApiError(
                400,
                "MissingBodyRawSize",
                "x-log-bodyrawsize does not exist in header when it is necessary.",
            )
        if not raw_size.isdigit():
            raise ApiError(400, "InvalidBodyRawSize", "x-log-bodyrawsize is invalid.")
        if body and "content-type" not in headers:
            raise ApiError(
                400,
                "MissingContentType",
                "Content-Type does not exist in http header when body is not empty.",
            )
        md5 = headers.get("content-md5")
        if body and md5 is not None and md5.upper() != signing.content_md5(body):
            raise ApiError(400, "ParameterInvalid", f"Content-MD5 {md5} does not match the body.")
        try:
            sent_at = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError, IndexError):
            raise ApiError(400, "InvalidDateFormat", f"Date {date} must follow RFC822.") from None
        if self.check_date and abs(sent_at - now) > DATE_TOLERANCE_SECONDS:
            raise ApiError(
                400,
                "RequestTimeExpired",
                f"Request time {date} has been expired while server time is "
                f"{signing.http_date(now)}.",
            )

    def _check_signature(
        self, method: str, path: str, pairs: list[tuple[str, str]], headers: dict[str, str]
    ) -> None:
        authorization = headers.get("authorization")
        if not authorization:
            raise ApiError(401, "Unauthorized", "Authorization does not exist in http header.")
        scheme, _, credential_part = authorization.partition(" ")
        key_id, colon, sent_signature = credential_part.strip().rpartition(":")
        if scheme != "LOG" or not colon or not key_id or not sent_signature:
            raise ApiError(
                400,
                "ParameterInvalid",
                "Authorization header is malformed; expected LOG <AccessKeyId>:<Signature>.",
            )
        credential = next((c for c in self.credentials if c.access_key_id == key_id), None)
        if credential is None:
            raise ApiError(401, "Unauthorized", "The AccessKeyId is unauthorized.")
        token = headers.get("x-acs-security-token")
        if token != credential.security_token and (token or credential.security_token):
            raise ApiError(401, "Unauthorized", "The security token you provided is invalid.")
        signed = dict(headers)
        signed["date"] = headers.get("date") or headers.get("x-log-date", "")
        text = signing.string_to_sign(method, path, pairs, signed)
        method = headers.get("x-log-signaturemethod", signing.SIGNATURE_METHOD)
        expected = signing.signature(credential.access_key_secret, text, method)
        if not hmac.compare_digest(expected.encode(), sent_signature.encode()):
            raise ApiError(401, "SignatureNotMatch", f"Signature {sent_signature} not matched.")

    # -- the APIs --

    def _serve(
        self,
        route: _Route,
        method: str,
        project_name: str | None,
        headers: dict[str, str],
        pairs: list[tuple[str, str]],
        body: bytes,
        now: float,
    ) -> _Response:
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
                    self.scenario.exports, route.api, project_name, name, params, body, _int_param
                )
                response = _json_response(payload)
                response.headers.update(extra)
                return response
            if route.api == API_LIST_LOGSTORES:
                return self._list_logstores(list(project.logstores), params)
            logstore = project.logstores.get(route.logstore or "")
            if logstore is None:
                raise ApiError(404, "LogStoreNotExist", f"logstore {route.logstore} does not exist")
            if route.api == API_LIST_SHIPPER:
                return self._list_shipper(list(logstore.shippers), params)
            shipper = logstore.shippers.get(route.shipper or "")
            if shipper is None:
                raise ApiError(400, "ShipperNotExist", f"shipper {route.shipper} does not exist")
            if route.api == API_GET_SHIPPER_STATUS:
                return self._get_shipper_status(shipper, params, now)
            ids = _retry_ids(body)
            for task_id in ids:
                task = shipper.tasks.get(task_id)
                if task is not None:
                    task.retry(int(now))
            with self._records_lock:
                self.retried.append((project.name, logstore.name, shipper.name, ids))
            return _Response(200)

    @staticmethod
    def _list_logstores(names: list[str], params: dict[str, str]) -> _Response:
        offset = _int_param(params, "offset", 0)
        size = _int_param(params, "size", 200, maximum=MAX_PAGE_SIZE)
        pattern = params.get("logstoreName")
        if pattern:
            names = [name for name in names if pattern in name]
        page = names[offset : offset + size]
        return _json_response({"count": len(page), "total": len(names), "logstores": page})

    @staticmethod
    def _list_shipper(names: list[str], params: dict[str, str]) -> _Response:
        offset = _int_param(params, "offset", 0)
        size = _int_param(params, "size", 100, maximum=MAX_PAGE_SIZE)
        page = names[offset : offset + size]
        return _json_response({"count": len(page), "shipper": page, "total": len(names)})

    @staticmethod
    def _get_shipper_status(shipper: ShipperSpec, params: dict[str, str], now: float) -> _Response:
        status = params.get("status", "")
        if status not in ("", *TASK_STATUSES):
            raise ApiError(400, "ParameterInvalid", "status only contains success/running/fail")
        start = _int_param(params, "from", None)
        end = _int_param(params, "to", None)
        offset = _int_param(params, "offset", 0)
        size = _int_param(params, "size", 100, maximum=MAX_PAGE_SIZE)
        if start >= end:
            raise ApiError(400, "ParameterInvalid", "start time must be earlier than end time")
        if start < int(now) - QUERY_WINDOW_SECONDS:
            raise ApiError(400, "ParameterInvalid", "only support query last 48 hours task status")

        def body(views: list[TaskView]) -> bytes:
            statistics = {
                TASK_RUNNING: sum(1 for v in views if v.status == TASK_RUNNING),
                TASK_SUCCESS: sum(1 for v in views if v.status == TASK_SUCCESS),
                TASK_FAIL: sum(1 for v in views if v.status == TASK_FAIL),
            }
            matching = [v for v in views if not status or v.status == status]
            page = matching[offset : offset + size]
            return _json_response(
                {
                    "count": len(page),
                    "total": len(matching),
                    "statistics": statistics,
                    "tasks": [v.to_json() for v in page],
                }
            ).body

        page = shipper.page(now, start, end, (status, offset, size), body)
        return _Response(200, page, {"Content-Type": "application/json"})


def _route(method: str, raw_path: str, query: Mapping[str, str] | None = None) -> _Route:
    segments = [unquote(part) for part in raw_path.split("/")[1:]]
    api: str | None = None
    logstore = shipper = None
    export_route = exports.route(method, segments, query or {})
    if export_route is not None:
        api, name = export_route
        if api == exports.API_GET_LOGS:
            return _Route(api, logstore=name)
        return _Route(api, job=name)
    if segments == ["logstores"]:
        api = API_LIST_LOGSTORES if method == "GET" else None
    elif len(segments) == 3 and segments[0] == "logstores" and segments[2] == "shipper":
        logstore = segments[1]
        api = API_LIST_SHIPPER if method == "GET" else None
    elif (
        len(segments) == 5
        and segments[0] == "logstores"
        and segments[2:5:2]
        == [
            "shipper",
            "tasks",
        ]
    ):
        logstore, shipper = segments[1], segments[3]
        api = {"GET": API_GET_SHIPPER_STATUS, "PUT": API_RETRY_SHIPPER_TASK}.get(method)
    else:
        error = ApiError(404, "NotSupported", f"the SLS simulator does not serve {raw_path}")
        return _Route(None, error=error)
    if api is None:
        error = ApiError(405, "MethodNotAllowed", f"{method} is not allowed on {raw_path}")
        return _Route(None, logstore, shipper, error)
    return _Route(api, logstore, shipper)


def _int_param(
    params: dict[str, str], name: str, default: int | None, maximum: int | None = None
) -> int:
    raw = params.get(name)
    if raw is None or (raw == "" and default is not None):
        if default is None:
            raise ApiError(400, "ParameterInvalid", f"parameter {name} is required")
        return default
    if not raw.isdigit():
        raise ApiError(
            400, "ParameterInvalid", f"parameter {name} must be a non-negative integer, not {raw!r}"
        )
    value = int(raw)
    if maximum is not None and value > maximum:
        raise ApiError(
            400, "ParameterInvalid", f"parameter {name} must be at most {maximum}, not {value}"
        )
    return value


def _retry_ids(body: bytes) -> list[str]:
    try:
        ids = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "PostBodyInvalid", "the body is not valid JSON") from None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "PostBodyInvalid", "the body must be a JSON array of task id strings")
    if len(ids) > MAX_RETRY_IDS:
        raise ApiError(
            400,
            "ParameterInvalid",
            f"at most {MAX_RETRY_IDS} tasks can be retried at a time, got {len(ids)}",
        )
    return ids


def _fault_response(fault: Fault) -> _Response:
    assert fault.status is not None
    if fault.error_code is not None:
        response = _error_response(
            ApiError(fault.status, fault.error_code, fault.error_message or "")
        )
    elif fault.json is not None:
        response = _json_response(fault.json, fault.status)
    elif fault.body is not None:
        raw = fault.body.encode("utf-8") if isinstance(fault.body, str) else fault.body
        response = _Response(fault.status, raw, {"Content-Type": "text/plain; charset=utf-8"})
    else:
        response = _Response(fault.status)
    response.headers.update(fault.headers)
    return response


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], family: socket.AddressFamily, simulator: SlsSimulator
    ) -> None:
        self.address_family = family
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._threads_started: list[threading.Thread] = []
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would resolve the host name (socket.getfqdn); not needed.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Daemon threads, so that a simulator somebody forgot to stop never holds up the
        # interpreter's exit; tracked here, because ThreadingMixIn only joins non-daemon ones.
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"sls-sim-conn-{client_address[1]}",
            daemon=True,
        )
        with self._connections_lock:
            self._connections.add(request)
            self._threads_started = [t for t in self._threads_started if t.is_alive()]
            self._threads_started.append(thread)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self, timeout: float = 10.0) -> None:
        """Wake every handler still waiting on a kept-alive connection, and wait for it."""
        with self._connections_lock:
            connections = list(self._connections)
            threads = list(self._threads_started)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):  # the client went away; nothing to report
            return
        logger.exception("SLS simulator: error while serving %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sls-simulator"
    sys_version = ""
    timeout = IDLE_CONNECTION_TIMEOUT
    # Headers and body go out in separate writes; without TCP_NODELAY the second one waits
    # for the client's delayed ACK (about 40 ms a response).
    disable_nagle_algorithm = True
    server: _HttpServer

    def do_GET(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        headers = dict(self.headers.items())
        response = self.server.simulator._handle(self.command, self.path, headers, body)
        if response.drop:
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_header = self.headers.get("Content-Length", "0") or "0"
        if not length_header.isdigit():
            self._refuse(400, "ParameterInvalid", "Content-Length is invalid.")
            return None
        length = int(length_header)
        if length > MAX_BODY_BYTES:
            self._refuse(413, "PostBodyTooLarge", "body size exceeds 10 MB.")
            return None
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(65537).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                self._refuse(400, "ParameterInvalid", "the chunked body is malformed.")
                return None
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                self._refuse(413, "PostBodyTooLarge", "body size exceeds 10 MB.")
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline(3)

    def _refuse(self, status: int, code: str, message: str) -> None:
        response = _error_response(ApiError(status, code, message))
        self.close_connection = True
        self.send_response(status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("x-log-requestid", new_request_id())
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("SLS simulator %s: " + format, self.address_string(), *args)
