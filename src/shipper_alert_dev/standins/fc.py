"""A loopback stand-in for the Function Compute 2.0 API (2016-08-15), for tests and tools.

It serves what `aliyun-fc2` 2.5.2 sends for a deployment and an invocation (docs/vendors.md,
"Function Compute 2.0 API"): get/create/update service, function and timer trigger, put/get
async-invoke-config, and invocations. Like FC it
- verifies the request signature (https://help.aliyun.com/document_detail/53252.html):
  `FC <id>:<base64 HMAC-SHA256>` over the method, Content-MD5, Content-Type, Date, the sorted
  `x-fc-*` headers and the unquoted path; a wrong or missing signature, an unknown key or a
  Date more than 15 minutes off is answered 403 before anything else happens;
- answers errors as JSON `{"ErrorCode", "ErrorMessage"}` with FC's codes and messages
  (https://www.alibabacloud.com/help/doc-detail/52736.htm, help.aliyun.com document 440324),
  and sends `X-Fc-Request-Id` on every response, because the SDK cannot parse anything else;
- for an invocation, really runs the uploaded code: the zip is unpacked once per upload and
  `module.function` of the handler string is called as `handler(event, context)` in a fresh
  `python -I -S` subprocess (no site-packages: the zip must carry its dependencies), with only the
  function's environment variables and FC's own `FC_*` ones, a `context` shaped like FC's python3.10
  one (https://www.alibabacloud.com/help/doc-detail/422182.htm) and a root log handler that prefixes
  time, request id and level (https://alibabacloud.com/help/en/functioncompute/logging-2). A sync
  invocation returns the handler's return value; with `x-fc-log-type: Tail` the last 4 KB of the
  output come back base64-encoded in `X-Fc-Log-Result`; when the handler raises, the answer is HTTP
  200 with `X-Fc-Error-Type: UnhandledInvocationError` and `{"errorMessage", "errorType",
  "stackTrace"}` (https://www.alibabacloud.com/help/doc-detail/191156.htm). An async invocation is
  answered 202 and runs in the background.

Tests read what arrived (`received`, from `StandIn`), what was answered (`exchanges`), the
stored resources (`services`, `functions`, `triggers`, `async_configs`), the uploaded zip
(`code(service, function)`) and every run (`invocations`); `invoke()` and `timer_event()`
run the deployed code without HTTP. `fail_next` replies are sent as given
(`error_reply()` builds FC-shaped ones). Only `LATEST` is served as a qualifier; versions,
aliases, other trigger types, OSS code and DELETE (which `StandIn` does not route) are not.

Choices of ours, not FC's (marked so they are not mistaken for the vendor's behaviour):
the error code for a skewed Date (`RequestTimeTooSkewed`), a wrong security token
(`InvalidSecurityToken`) and the exact validation messages. It runs whatever code it is
given, as the current user: it is a local test tool and binds loopback only.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import hmac
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shipper_alert_dev.standins.base import Received, Reply, StandIn

API_VERSION = "2016-08-15"
# "客户端需要保证生成的时间与函数计算服务端的时间相差不超过15分钟" (https://help.aliyun.com/document_detail/53252.html)
DATE_TOLERANCE_SECONDS = 15 * 60
LOG_TAIL_BYTES = 4096  # "Tail: returns the last 4 KB of logs" (https://www.alibabacloud.com/help/doc-detail/191156.htm)
ASYNC_PAYLOAD_LIMIT = (
    128 * 1024
)  # async payload limit, 128 KB (https://alibabacloud.com/help/doc-detail/70140.htm)
MAX_ASYNC_RETRY_ATTEMPTS = (
    8  # https://www.alibabacloud.com/help/en/functioncompute/fc/error-handling-1-2
)
MAX_ASYNC_EVENT_AGE = 604800  # maxAsyncEventAgeInSeconds 1-604800, the same page
MAX_FUNCTION_TIMEOUT = 86400  # 24 hours, the same page
PYTHON_RUNTIMES = ("python3", "python3.9", "python3.10")
LATEST = "LATEST"
UNHANDLED_INVOCATION_ERROR = "UnhandledInvocationError"

DEFAULT_ACCESS_KEY_ID = "LTAI-fc-standin"
DEFAULT_ACCESS_KEY_SECRET = "fc-standin-access-key-secret"  # noqa: S105 - made up, local only
DEFAULT_ACCOUNT_ID = "1234567890123456"
DEFAULT_REGION = "cn-hangzhou"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,127}")
_ROLE_ARN = re.compile(r"acs:ram::\d+:role/[A-Za-z0-9_.@-]+", re.IGNORECASE)
_HANDLER = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*\.[A-Za-z_][A-Za-z0-9_]*")


# -- the signature (docs/vendors.md, "Function Compute 2.0 API") -------------------------
def canonical_headers(headers: Mapping[str, str]) -> str:
    """The `x-fc-*` headers, names lower-cased and sorted, as `name:value\\n` each."""
    pairs = sorted((k.lower(), v) for k, v in headers.items() if k.lower().startswith("x-fc-"))
    return "".join(f"{name}:{value}\n" for name, value in pairs)


def canonical_resource(path: str, query: Mapping[str, list[str]] | None = None) -> str:
    """The unquoted path; for HTTP-trigger `/proxy/` paths also `\\n` and the sorted params."""
    resource = urllib.parse.unquote(path)
    if f"/{API_VERSION}/proxy/" not in path:
        return resource
    params = []
    for key, values in (query or {}).items():
        if values:
            params.extend(f"{key}={value}" for value in values)
        else:
            params.append(key)
    return resource + "\n" + "\n".join(sorted(params))


def string_to_sign(
    method: str,
    path: str,
    headers: Mapping[str, str],
    query: Mapping[str, list[str]] | None = None,
) -> str:
    lower = {k.lower(): v for k, v in headers.items()}
    return "\n".join(
        [
            method.upper(),
            lower.get("content-md5", ""),
            lower.get("content-type", ""),
            lower.get("date", ""),
            canonical_headers(lower) + canonical_resource(path, query),
        ]
    )


def signature(access_key_secret: str, text: str) -> str:
    digest = hmac.new(access_key_secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def authorization(
    access_key_id: str,
    access_key_secret: str,
    method: str,
    path: str,
    headers: Mapping[str, str],
    query: Mapping[str, list[str]] | None = None,
) -> str:
    """The `Authorization` header value FC expects for this request."""
    text = string_to_sign(method, path, headers, query)
    return f"FC {access_key_id}:{signature(access_key_secret, text)}"


class FcApiError(Exception):
    """An FC API error answer: HTTP status, ErrorCode, ErrorMessage."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FcCredential:
    """An AccessKey pair the stand-in accepts; with a token, requests must carry it."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)


def verify_request(
    method: str,
    path: str,
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
    credentials: Mapping[str, FcCredential],
    now: float,
) -> FcCredential:
    """The credential that signed the request, or FcApiError (403) saying what is wrong."""
    lower = {k.lower(): v for k, v in headers.items()}
    date = lower.get("date")
    if not date:
        raise FcApiError(
            400, "MissingRequiredHeader", "required HTTP header Date was not specified"
        )
    auth = lower.get("authorization", "")
    match = re.fullmatch(r"FC ([^:\s]+):(\S+)", auth)
    if match is None:
        raise FcApiError(
            403, "AccessDenied", "the Authorization header is missing or not 'FC <id>:<signature>'"
        )
    key_id, given = match.groups()
    credential = credentials.get(key_id)
    if credential is None:
        raise FcApiError(403, "InvalidAccessKeyID", f"invalid access key ID '{key_id}'")
    try:
        sent_at = email.utils.parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        raise FcApiError(400, "InvalidArgument", f"the Date header {date!r} is invalid") from None
    if abs(sent_at - now) > DATE_TOLERANCE_SECONDS:
        raise FcApiError(
            403,
            "RequestTimeTooSkewed",
            "the difference between the request time and the server's time is too large",
        )
    expected = signature(credential.access_key_secret, string_to_sign(method, path, lower, query))
    check_signature_and_token(credential, expected, given, lower.get("x-fc-security-token", ""))
    return credential


def check_signature_and_token(
    credential: FcCredential, expected: str, given: str, token: str
) -> None:
    """FcApiError (403) unless the signature matches and an STS key's token was sent."""
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise FcApiError(
            403,
            "SignatureNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your access key and signing method",
        )
    if credential.security_token is not None and not hmac.compare_digest(
        credential.security_token.encode(), token.encode()
    ):
        raise FcApiError(403, "InvalidSecurityToken", "the security token is missing or invalid")


# -- what the stand-in stores ---------------------------------------------------------------
@dataclass(frozen=True)
class Exchange:
    """One answered request: what the client asked and what it got."""

    method: str
    path: str
    status: int
    error_code: str | None
    request_id: str


@dataclass(frozen=True)
class Invocation:
    """One run of a function's code."""

    request_id: str
    service: str
    function: str
    event: bytes
    asynchronous: bool
    body: bytes
    error_type: str | None
    logs: bytes
    environment: dict[str, str]

    @property
    def error(self) -> dict[str, Any] | None:
        return json.loads(self.body) if self.error_type else None


def _iso_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise FcApiError(400, "InvalidArgument", message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# The program the subprocess runs: FC's python3.10 runtime in miniature. It reads the
# request (event and context) as JSON on stdin, writes the outcome as JSON to the file
# named by argv[3], and everything the handler prints or logs is the invocation's log.
_RUNNER = r"""
import base64, importlib, json, logging, sys, time, traceback

code_dir, handler_spec, result_path = sys.argv[1:4]
request = json.loads(sys.stdin.buffer.read())
sys.path.insert(0, code_dir)
c = request["context"]
request_id = c["request_id"]


class Credentials:
    def __init__(self, access_key_id, access_key_secret, security_token):
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.security_token = security_token


class ServiceMeta:
    def __init__(self, service_name, log_project, log_store, qualifier, version_id):
        self.name = service_name
        self.log_project = log_project
        self.log_store = log_store
        self.qualifier = qualifier
        self.version_id = version_id


class FunctionMeta:
    # python3.10: name, handler, memory, timeout, initializer, initialization_timeout;
    # python3.12 (FC 3.0): name, handler, memory, timeout, version_id, qualifier.
    def __init__(self, **fields):
        self.__dict__.update(fields)


class Tracing:
    def __init__(self):
        self.span_context = None
        self.jaeger_endpoint = None
        self.span_baggages = {}

    def parseOpenTracingBaggages(self):
        return {}


class FCContext:
    def __init__(self):
        self.request_id = request_id
        # Absent on python3.12, which has ALIBABA_CLOUD_* variables and no service instead.
        if "credentials" in c:
            self.credentials = Credentials(**c["credentials"])
        if "service" in c:
            self.service = ServiceMeta(**c["service"])
        for key in ("log_project", "log_store"):
            if key in c:
                setattr(self, key, c[key])
        self.function = FunctionMeta(**c["function"])
        self.region = c["region"]
        self.account_id = c["account_id"]
        self.tracing = Tracing()


class Formatter(logging.Formatter):
    converter = time.gmtime

    def formatTime(self, record, datefmt=None):
        return time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created)) + (
            ".%03dZ" % record.msecs
        )


stream = logging.StreamHandler(sys.stdout)
stream.setFormatter(Formatter("%(asctime)s " + request_id + " [%(levelname)s] %(message)s"))
root = logging.getLogger()
root.handlers = [stream]
root.setLevel(logging.INFO)
print("FC Invoke Start RequestId: " + request_id, flush=True)
try:
    module_name, function_name = handler_spec.rsplit(".", 1)
    function = getattr(importlib.import_module(module_name.replace("/", ".")), function_name)
    out = function(base64.b64decode(request["event"]), FCContext())
    if out is None:
        body = b""
    elif isinstance(out, bytes):
        body = out
    elif isinstance(out, str):
        body = out.encode("utf-8")
    else:
        body = json.dumps(out).encode("utf-8")
    result = {"ok": True, "body": base64.b64encode(body).decode()}
except Exception as exc:
    root.error("%s: %s", type(exc).__name__, exc, exc_info=True)
    error = {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": [line.rstrip("\n") for line in traceback.format_tb(exc.__traceback__)],
    }
    result = {"ok": False, "error": error}
sys.stdout.flush()
print("FC Invoke End RequestId: " + request_id, flush=True)
with open(result_path, "w", encoding="utf-8") as f:
    json.dump(result, f)
"""


class FcStandIn(StandIn):
    """A local FC 2.0 API: deploy to it with the real SDK, then invoke what was deployed."""

    name = "fc"

    def __init__(
        self,
        *,
        credentials: list[FcCredential] | None = None,
        role_credentials: FcCredential | None = None,
        account_id: str = DEFAULT_ACCOUNT_ID,
        region: str = DEFAULT_REGION,
        python: str | None = None,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """`role_credentials`: the STS keys a function of a service with a role receives in
        `context.credentials` (made-up ones when None); `python`: the interpreter that runs
        the code (default: this one)."""
        super().__init__(host, port)
        accepted = credentials or [FcCredential(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET)]
        self.credentials = {c.access_key_id: c for c in accepted}
        self.role_credentials = role_credentials or FcCredential(
            "STS.fc-standin-role", "fc-standin-role-secret", "fc-standin-role-token"
        )
        self.account_id = account_id
        self.region = region
        self.python = python or sys.executable
        self.clock = clock
        self.services: dict[str, dict[str, Any]] = {}
        self.functions: dict[tuple[str, str], dict[str, Any]] = {}
        self.triggers: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.async_configs: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.exchanges: list[Exchange] = []
        self.invocations: list[Invocation] = []
        self._code: dict[tuple[str, str], bytes] = {}
        self._unpacked: dict[str, Path] = {}  # sha256 of a zip -> its folder
        self._state = threading.RLock()
        self._background: list[threading.Thread] = []
        self._workdir = Path(tempfile.mkdtemp(prefix="fc-standin-"))

    # -- for tests and tools ------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        """What to give the SDK (and FC_ENDPOINT): plain http to the loopback port."""
        return self.url

    @property
    def access_key(self) -> FcCredential:
        return next(iter(self.credentials.values()))

    def code(self, service: str, function: str) -> bytes:
        """The zip last uploaded for the function."""
        with self._state:
            return self._code[(service, function)]

    def error_reply(self, status: int, code: str, message: str) -> Reply:
        """An FC-shaped error, for `fail_next`."""
        return Reply(
            status,
            {"ErrorCode": code, "ErrorMessage": message},
            {"X-Fc-Request-Id": str(uuid.uuid4())},
        )

    def invoke(
        self, service: str, function: str, event: bytes = b"", *, asynchronous: bool = False
    ) -> Invocation:
        """Run the function's code now, as an invocation would (no HTTP, no signature)."""
        with self._state:
            meta = dict(self._function(service, function))
            service_meta = dict(self.services[service])
            code = self._code[(service, function)]
        return self._run(service_meta, meta, code, event, asynchronous, str(uuid.uuid4()))

    def timer_event(self, trigger: str, trigger_time: datetime | None = None) -> bytes:
        """The event a timer trigger sends, with the trigger's payload.

        Shape: https://alibabacloud.com/help/doc-detail/70140.htm.
        """
        with self._state:
            matches = [t for (_, _, name), t in self.triggers.items() if name == trigger]
        (found,) = matches
        at = trigger_time or datetime.now(timezone.utc)
        event = {
            "triggerTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "triggerName": trigger,
            "payload": found["triggerConfig"].get("payload", ""),
        }
        return json.dumps(event).encode()

    def wait_for_background(self, timeout: float = 60.0) -> None:
        for thread in list(self._background):
            thread.join(timeout)

    def stop(self) -> None:
        super().stop()
        self.wait_for_background()
        shutil.rmtree(self._workdir, ignore_errors=True)

    # -- the HTTP side ------------------------------------------------------------------
    request_id_header = "X-Fc-Request-Id"

    def answer(self, request: Received) -> Reply:
        request_id = str(uuid.uuid4())
        try:
            self._verify(request)
            reply = self._route(request, request_id)
            error_code = None
        except FcApiError as exc:
            reply = self._error_answer(exc, request_id)
            error_code = exc.code
        headers = {self.request_id_header: request_id, **reply.headers}
        reply = Reply(reply.status, reply.body, headers)
        with self._state:
            self.exchanges.append(
                Exchange(request.method, request.path, reply.status, error_code, request_id)
            )
        return reply

    def _verify(self, request: Received) -> None:
        verify_request(
            request.method,
            request.path,
            request.query,
            request.headers,
            self.credentials,
            self.clock(),
        )

    @staticmethod
    def _error_answer(exc: FcApiError, request_id: str) -> Reply:
        return Reply(exc.status, {"ErrorCode": exc.code, "ErrorMessage": exc.message})

    def _route(self, request: Received, request_id: str) -> Reply:  # noqa: PLR0911, PLR0912
        prefix = f"/{API_VERSION}/"
        path = urllib.parse.unquote(request.path)
        if not path.startswith(prefix):
            raise self._unsupported(request)
        parts = path[len(prefix) :].strip("/").split("/")
        method = request.method
        with self._state:
            if parts == ["account-settings"] and method == "GET":
                return Reply(200, {"availableAZs": [f"{self.region}-a"]})
            if parts[0] != "services":
                raise self._unsupported(request)
            if len(parts) == 1 and method == "POST":
                return self._create_service(self._body(request))
            if len(parts) < 2:
                raise self._unsupported(request)
            service, qualifier = self._split_qualifier(parts[1])
            if len(parts) == 2 and method == "GET":
                return Reply(200, self._service(service))
            if len(parts) == 2 and method == "PUT" and qualifier is None:
                return self._update_service(service, self._body(request))
            if len(parts) == 3 and parts[2] == "functions" and method == "POST":
                return self._create_function(service, self._body(request))
            if len(parts) < 4 or parts[2] != "functions":
                raise self._unsupported(request)
            function = parts[3]
            if len(parts) == 4 and method == "GET":
                return Reply(200, dict(self._function(service, function)))
            if len(parts) == 4 and method == "PUT" and qualifier is None:
                return self._update_function(service, function, self._body(request))
            rest = parts[4:]
            if rest == ["invocations"] and method == "POST":
                meta = dict(self._function(service, function))
                service_meta = dict(self.services[service])
                code = self._code[(service, function)]
            elif rest == ["async-invoke-config"] and method == "PUT":
                return self._put_async_config(service, qualifier, function, self._body(request))
            elif rest == ["async-invoke-config"] and method == "GET":
                return self._get_async_config(service, qualifier, function)
            elif rest == ["triggers"] and method == "POST" and qualifier is None:
                return self._create_trigger(service, function, self._body(request))
            elif len(rest) == 2 and rest[0] == "triggers" and qualifier is None:
                if method == "GET":
                    return Reply(200, self._trigger(service, function, rest[1]))
                if method == "PUT":
                    return self._update_trigger(service, function, rest[1], self._body(request))
                raise self._unsupported(request)
            else:
                raise self._unsupported(request)
        # Outside the lock: the code may run for a while.
        return self._invocation(service_meta, meta, code, request, request_id)

    @staticmethod
    def _unsupported(request: Received) -> FcApiError:
        return FcApiError(
            400, "PathNotSupported", f"'{request.method}' against '{request.path}' is not supported"
        )

    @staticmethod
    def _body(request: Received) -> dict[str, Any]:
        try:
            body = json.loads(request.body.decode("utf-8")) if request.body else {}
        except (UnicodeDecodeError, ValueError):
            raise FcApiError(400, "InvalidArgument", "the request body is not JSON") from None
        _require(isinstance(body, dict), "the request body is not a JSON object")
        return body

    def _split_qualifier(self, text: str) -> tuple[str, str | None]:
        service, _, qualifier = text.partition(".")
        if qualifier and qualifier != LATEST:
            self._service(service)
            raise FcApiError(
                404, "AliasNotFound", f"alias '{qualifier}' of service '{service}' does not exist"
            )
        return service, qualifier or None

    # -- services -----------------------------------------------------------------------
    def _service(self, name: str) -> dict[str, Any]:
        if name not in self.services:
            raise FcApiError(404, "ServiceNotFound", f"service '{name}' does not exist")
        return self.services[name]

    @staticmethod
    def _check_service_fields(body: Mapping[str, Any]) -> None:
        role = body.get("role")
        _require(
            role is None or (isinstance(role, str) and bool(_ROLE_ARN.fullmatch(role))),
            f"role {role!r} is not a RAM role ARN (acs:ram::<account>:role/<name>)",
        )
        log_config = body.get("logConfig")
        _require(
            log_config is None
            or (
                isinstance(log_config, dict)
                and all(isinstance(log_config.get(k, ""), str) for k in ("project", "logstore"))
            ),
            "logConfig must be an object with string project and logstore",
        )
        access = body.get("internetAccess")
        _require(access is None or isinstance(access, bool), "internetAccess must be a boolean")
        description = body.get("description")
        _require(
            description is None or isinstance(description, str), "description must be a string"
        )

    def _create_service(self, body: dict[str, Any]) -> Reply:
        name = body.get("serviceName")
        _require(
            isinstance(name, str) and bool(_NAME.fullmatch(name)),
            f"serviceName {name!r} is invalid",
        )
        self._check_service_fields(body)
        if name in self.services:
            raise FcApiError(409, "ServiceAlreadyExists", f"service '{name}' already exists")
        now = _iso_now()
        service = {
            "serviceName": name,
            "serviceId": str(uuid.uuid4()),
            "description": body.get("description") or "",
            "role": body.get("role") or "",
            "logConfig": body.get("logConfig") or {"project": "", "logstore": ""},
            "internetAccess": body.get("internetAccess", True),
            "vpcConfig": body.get("vpcConfig") or {},
            "createdTime": now,
            "lastModifiedTime": now,
        }
        self.services[name] = service
        return Reply(200, service)

    def _update_service(self, name: str, body: dict[str, Any]) -> Reply:
        service = self._service(name)
        self._check_service_fields(body)
        for key in ("description", "role", "logConfig", "internetAccess", "vpcConfig"):
            if key in body:
                service[key] = body[key]
        service["lastModifiedTime"] = _iso_now()
        return Reply(200, service)

    # -- functions ----------------------------------------------------------------------
    def _function(self, service: str, name: str) -> dict[str, Any]:
        self._service(service)
        if (service, name) not in self.functions:
            raise FcApiError(
                404, "FunctionNotFound", f"function '{name}' does not exist in service '{service}'"
            )
        return self.functions[(service, name)]

    @staticmethod
    def _check_function_fields(body: Mapping[str, Any]) -> None:
        runtime = body.get("runtime")
        _require(
            runtime is None or runtime in PYTHON_RUNTIMES,
            f"runtime {runtime!r} is not one this stand-in runs ({', '.join(PYTHON_RUNTIMES)})",
        )
        handler = body.get("handler")
        _require(
            handler is None or (isinstance(handler, str) and bool(_HANDLER.fullmatch(handler))),
            f"handler {handler!r} is not 'module.function'",
        )
        for key, low, high in (
            ("memorySize", 64, 32768),
            ("timeout", 1, MAX_FUNCTION_TIMEOUT),
            ("initializationTimeout", 1, 300),
            ("instanceConcurrency", 1, 200),
        ):
            value = body.get(key)
            _require(
                value is None or (_is_int(value) and low <= value <= high),
                f"{key} {value!r} is outside {low}..{high}",
            )
        env = body.get("environmentVariables")
        _require(
            env is None
            or (
                isinstance(env, dict)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
            ),
            "environmentVariables must map strings to strings",
        )

    @staticmethod
    def _decode_code(code: Any) -> bytes:
        _require(isinstance(code, dict), "code must be an object")
        _require(
            "zipFile" in code, "this stand-in takes code as code.zipFile (base64), not from OSS"
        )
        try:
            data = base64.b64decode(code["zipFile"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise FcApiError(400, "InvalidArgument", "code.zipFile is not base64") from None
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                archive.testzip()
        except zipfile.BadZipFile:
            raise FcApiError(400, "InvalidArgument", "code.zipFile is not a zip file") from None
        return data

    def _create_function(self, service: str, body: dict[str, Any]) -> Reply:
        self._service(service)
        name = body.get("functionName")
        _require(
            isinstance(name, str) and bool(_NAME.fullmatch(name)),
            f"functionName {name!r} is invalid",
        )
        _require(bool(body.get("runtime")), "runtime is required")
        _require(bool(body.get("handler")), "handler is required")
        self._check_function_fields(body)
        if (service, name) in self.functions:
            raise FcApiError(
                409,
                "FunctionAlreadyExists",
                f"function '{name}' already exists in service '{service}'",
            )
        code = self._decode_code(body.get("code"))
        now = _iso_now()
        function = {
            "functionName": name,
            "functionId": str(uuid.uuid4()),
            "description": body.get("description") or "",
            "runtime": body["runtime"],
            "handler": body["handler"],
            "memorySize": body.get("memorySize", 128),
            "timeout": body.get("timeout", 3),
            "initializer": body.get("initializer") or "",
            "initializationTimeout": body.get("initializationTimeout", 3),
            "instanceConcurrency": body.get("instanceConcurrency", 1),
            "environmentVariables": dict(body.get("environmentVariables") or {}),
            "createdTime": now,
            "lastModifiedTime": now,
        }
        self._store_code(service, name, function, code)
        self.functions[(service, name)] = function
        return Reply(200, dict(function))

    def _update_function(self, service: str, name: str, body: dict[str, Any]) -> Reply:
        function = self._function(service, name)
        self._check_function_fields(body)
        code = self._decode_code(body["code"]) if "code" in body else None
        for key in (
            "description",
            "runtime",
            "handler",
            "memorySize",
            "timeout",
            "initializer",
            "initializationTimeout",
            "instanceConcurrency",
        ):
            if key in body:
                function[key] = body[key]
        if "environmentVariables" in body:  # replaced as a whole, as FC does
            function["environmentVariables"] = dict(body["environmentVariables"] or {})
        if code is not None:
            self._store_code(service, name, function, code)
        function["lastModifiedTime"] = _iso_now()
        return Reply(200, dict(function))

    def _store_code(self, service: str, name: str, function: dict[str, Any], code: bytes) -> None:
        self._code[(service, name)] = code
        function["codeSize"] = len(code)
        function["codeChecksum"] = hashlib.sha256(code).hexdigest()  # FC's is a CRC-64

    # -- triggers -----------------------------------------------------------------------
    def _trigger(self, service: str, function: str, name: str) -> dict[str, Any]:
        self._function(service, function)
        if (service, function, name) not in self.triggers:
            raise FcApiError(
                404,
                "TriggerNotFound",
                f"trigger '{name}' does not exist in service '{service}' and function '{function}'",
            )
        return self.triggers[(service, function, name)]

    @staticmethod
    def _check_timer_config(config: Any) -> None:
        _require(isinstance(config, dict), "triggerConfig must be an object")
        cron = config.get("cronExpression")
        _require(isinstance(cron, str) and bool(cron.strip()), "cronExpression is required")
        fields = re.sub(r"^CRON_TZ=\S+\s+", "", cron.strip()).split()
        _require(
            cron.strip().startswith("@every ") or len(fields) == 6,
            f"cronExpression {cron!r} is neither '@every <duration>' nor 6 fields (seconds first)",
        )
        _require(isinstance(config.get("enable", True), bool), "enable must be a boolean")
        _require(isinstance(config.get("payload", ""), str), "payload must be a string")

    def _create_trigger(self, service: str, function: str, body: dict[str, Any]) -> Reply:
        self._function(service, function)
        name = body.get("triggerName")
        _require(
            isinstance(name, str) and bool(_NAME.fullmatch(name)),
            f"triggerName {name!r} is invalid",
        )
        _require(
            body.get("triggerType") == "timer",
            f"triggerType {body.get('triggerType')!r}: this stand-in serves timer triggers only",
        )
        self._check_timer_config(body.get("triggerConfig"))
        if (service, function, name) in self.triggers:
            raise FcApiError(409, "TriggerAlreadyExists", f"trigger '{name}' already exists")
        now = _iso_now()
        trigger = {
            "triggerName": name,
            "triggerId": str(uuid.uuid4()),
            "triggerType": "timer",
            "triggerConfig": dict(body["triggerConfig"]),
            "description": body.get("description") or "",
            "sourceArn": body.get("sourceArn"),
            "invocationRole": body.get("invocationRole"),
            "qualifier": body.get("qualifier") or LATEST,
            "createdTime": now,
            "lastModifiedTime": now,
        }
        self.triggers[(service, function, name)] = trigger
        return Reply(200, trigger)

    def _update_trigger(
        self, service: str, function: str, name: str, body: dict[str, Any]
    ) -> Reply:
        trigger = self._trigger(service, function, name)
        if "triggerConfig" in body:
            self._check_timer_config(body["triggerConfig"])
            trigger["triggerConfig"] = dict(body["triggerConfig"])
        for key in ("description", "invocationRole", "qualifier"):
            if key in body:
                trigger[key] = body[key]
        trigger["lastModifiedTime"] = _iso_now()
        return Reply(200, trigger)

    # -- async invoke config --------------------------------------------------------------
    def _put_async_config(
        self, service: str, qualifier: str | None, function: str, body: dict[str, Any]
    ) -> Reply:
        self._function(service, function)
        attempts = body.get("maxAsyncRetryAttempts")
        age = body.get("maxAsyncEventAgeInSeconds")
        _require(
            attempts is None or (_is_int(attempts) and 0 <= attempts <= MAX_ASYNC_RETRY_ATTEMPTS),
            f"maxAsyncRetryAttempts {attempts!r} is outside 0..{MAX_ASYNC_RETRY_ATTEMPTS}",
        )
        _require(
            age is None or (_is_int(age) and 1 <= age <= MAX_ASYNC_EVENT_AGE),
            f"maxAsyncEventAgeInSeconds {age!r} is outside 1..{MAX_ASYNC_EVENT_AGE}",
        )
        key = (service, qualifier or LATEST, function)
        now = _iso_now()
        config = {
            **body,
            "service": service,
            "function": function,
            "qualifier": qualifier or LATEST,
            "createdTime": self.async_configs.get(key, {}).get("createdTime", now),
            "lastModifiedTime": now,
        }
        self.async_configs[key] = config
        return Reply(200, config)

    def _get_async_config(self, service: str, qualifier: str | None, function: str) -> Reply:
        self._function(service, function)
        key = (service, qualifier or LATEST, function)
        if key not in self.async_configs:
            raise FcApiError(
                404,
                "AsyncConfigNotExists",
                f"AsyncConfig for {service}:{qualifier or LATEST}:{function} does not exist.",
            )
        return Reply(200, self.async_configs[key])

    # -- invocations --------------------------------------------------------------------
    def _invocation(
        self,
        service: dict[str, Any],
        function: dict[str, Any],
        code: bytes,
        request: Received,
        request_id: str,
    ) -> Reply:
        kind = request.headers.get("x-fc-invocation-type", "Sync")
        _require(kind in ("Sync", "Async"), f"x-fc-invocation-type {kind!r} is not Sync or Async")
        if kind == "Async":
            if len(request.body) > ASYNC_PAYLOAD_LIMIT:
                raise FcApiError(
                    400,
                    "EntityTooLarge",
                    f"payload size exceeds maximum allowed size ({ASYNC_PAYLOAD_LIMIT} bytes)",
                )
            thread = threading.Thread(
                target=self._run,
                args=(service, function, code, request.body, True, request_id),
                daemon=True,
            )
            self._background.append(thread)
            thread.start()
            return Reply(202, b"")
        started = time.monotonic()
        run = self._run(service, function, code, request.body, False, request_id)
        headers = {"X-Fc-Invocation-Duration": str(int((time.monotonic() - started) * 1000))}
        if request.headers.get("x-fc-log-type") == "Tail":
            headers["X-Fc-Log-Result"] = base64.b64encode(run.logs[-LOG_TAIL_BYTES:]).decode()
        if run.error_type:
            headers["X-Fc-Error-Type"] = run.error_type
            return Reply(200, run.error, headers)
        return Reply(200, run.body, headers)

    def _unpack(self, code: bytes) -> Path:
        digest = hashlib.sha256(code).hexdigest()
        with self._state:
            folder = self._unpacked.get(digest)
            if folder is None:
                folder = self._workdir / "code" / digest[:16]
                with zipfile.ZipFile(io.BytesIO(code)) as archive:
                    archive.extractall(folder)
                self._unpacked[digest] = folder
            return folder

    def _environment(
        self, service: Mapping[str, Any], function: Mapping[str, Any], code_dir: Path
    ) -> dict[str, str]:
        tmp = self._workdir / "tmp"
        tmp.mkdir(exist_ok=True)
        log_config = service.get("logConfig") or {}
        # The function's own variables first: FC's FC_* ones are reserved and win.
        return {
            **function["environmentVariables"],
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": str(tmp),
            "TMPDIR": str(tmp),
            "FC_FUNC_CODE_PATH": f"{code_dir}/",
            "FC_SERVICE_NAME": service["serviceName"],
            "FC_FUNCTION_NAME": function["functionName"],
            "FC_FUNCTION_HANDLER": function["handler"],
            "FC_FUNCTION_MEMORY_SIZE": str(function["memorySize"]),
            "FC_REGION": self.region,
            "FC_ACCOUNT_ID": self.account_id,
            "FC_SERVICE_LOGPROJECT": log_config.get("project", ""),
            "FC_SERVICE_LOGSTORE": log_config.get("logstore", ""),
        }

    def _context(
        self, service: Mapping[str, Any], function: Mapping[str, Any], request_id: str
    ) -> dict[str, Any]:
        role = self.role_credentials if service.get("role") else FcCredential("", "", "")
        log_config = service.get("logConfig") or {}
        return {
            "request_id": request_id,
            "credentials": {
                "access_key_id": role.access_key_id,
                "access_key_secret": role.access_key_secret,
                "security_token": role.security_token or "",
            },
            "function": {
                "name": function["functionName"],
                "handler": function["handler"],
                "memory": function["memorySize"],
                "timeout": function["timeout"],
                "initializer": function.get("initializer") or "",
                "initialization_timeout": function.get("initializationTimeout"),
            },
            "service": {
                "service_name": service["serviceName"],
                "log_project": log_config.get("project", ""),
                "log_store": log_config.get("logstore", ""),
                "qualifier": LATEST,
                "version_id": "",
            },
            "region": self.region,
            "account_id": self.account_id,
        }

    def _interpreter(self, function: Mapping[str, Any]) -> str:
        """The Python that runs the function's runtime."""
        return self.python

    def _run(
        self,
        service: Mapping[str, Any],
        function: Mapping[str, Any],
        code: bytes,
        event: bytes,
        asynchronous: bool,
        request_id: str,
    ) -> Invocation:
        code_dir = self._unpack(code)
        environment = self._environment(service, function, code_dir)
        request = {
            "event": base64.b64encode(event).decode(),
            "context": self._context(service, function, request_id),
        }
        timeout = function["timeout"]
        with tempfile.TemporaryDirectory(dir=self._workdir) as scratch:
            result_path = Path(scratch) / "result.json"
            command = [self._interpreter(function), "-I", "-S", "-u", "-c", _RUNNER]
            command += [str(code_dir), function["handler"], str(result_path)]
            try:
                done = subprocess.run(  # noqa: S603 - our interpreter, our runner
                    command,
                    input=json.dumps(request).encode(),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    env=environment,
                    cwd=code_dir,
                    timeout=timeout,
                    check=False,
                )
                logs = done.stdout
                outcome = json.loads(result_path.read_text()) if result_path.exists() else None
                if outcome is None:
                    crash = f"the runtime exited with status {done.returncode}"
                    outcome = {"ok": False, "error": {"errorMessage": crash}}
            except subprocess.TimeoutExpired as exc:
                logs = exc.output or b""
                message = f"Function timed out after {timeout} seconds"
                outcome = {"ok": False, "error": {"errorMessage": message}}
        if outcome["ok"]:
            body, error_type = base64.b64decode(outcome["body"]), None
        else:
            body = json.dumps(outcome["error"], ensure_ascii=False).encode()
            error_type = UNHANDLED_INVOCATION_ERROR
        invocation = Invocation(
            request_id=request_id,
            service=service["serviceName"],
            function=function["functionName"],
            event=event,
            asynchronous=asynchronous,
            body=body,
            error_type=error_type,
            logs=logs,
            environment=environment,
        )
        with self._state:
            self.invocations.append(invocation)
        return invocation
