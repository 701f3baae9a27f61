"""A loopback stand-in for the Function Compute 2.0 API (2016-08-15), for tests and tools.

It serves what `aliyun-fc2` 2.5.2 sends for a deployment and an invocation (docs/vendors.md,
"Function Compute 2.0 API"): get/create/update service, function and timer trigger, put/get
async-invoke-config, and invocations. This module routes requests and answers them; the
signature check is in `fc_signing` (a bad one is answered 403 before anything else), the
resources and their limits in `fc_resources`, and running the uploaded code in `fc_runner`.
Errors are JSON `{"ErrorCode", "ErrorMessage"}` with FC's codes and messages
(https://www.alibabacloud.com/help/doc-detail/52736.htm, help.aliyun.com document 440324),
and every response carries `X-Fc-Request-Id`, because the SDK cannot parse anything else. A
sync invocation returns the handler's return value; with `x-fc-log-type: Tail` the last 4 KB
of the output come back base64-encoded in `X-Fc-Log-Result`; when the handler raises, the
answer is HTTP 200 with `X-Fc-Error-Type: UnhandledInvocationError` and `{"errorMessage",
"errorType", "stackTrace"}` (https://www.alibabacloud.com/help/doc-detail/191156.htm). An
async invocation is answered 202 and runs in the background.

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
import json
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shipper_alert_dev.standins.base import Received, Reply, StandIn
from shipper_alert_dev.standins.fc_resources import (
    ASYNC_PAYLOAD_LIMIT,
    LATEST,
    LOG_TAIL_BYTES,
    FcResources,
    require,
)
from shipper_alert_dev.standins.fc_runner import FunctionRunner, Invocation
from shipper_alert_dev.standins.fc_signing import (
    API_VERSION,
    FcApiError,
    FcCredential,
    verify_request,
)

DEFAULT_ACCESS_KEY_ID = "LTAI-fc-standin"
DEFAULT_ACCESS_KEY_SECRET = "fc-standin-access-key-secret"  # noqa: S105 - made up, local only
DEFAULT_ACCOUNT_ID = "1234567890123456"
DEFAULT_REGION = "cn-hangzhou"


# -- what the stand-in stores ---------------------------------------------------------------
@dataclass(frozen=True)
class Exchange:
    """One answered request: what the client asked and what it got."""

    method: str
    path: str
    status: int
    error_code: str | None
    request_id: str


class FcStandIn(FcResources, FunctionRunner, StandIn):
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
        require(isinstance(body, dict), "the request body is not a JSON object")
        return body

    def _split_qualifier(self, text: str) -> tuple[str, str | None]:
        service, _, qualifier = text.partition(".")
        if qualifier and qualifier != LATEST:
            self._service(service)
            raise FcApiError(
                404, "AliasNotFound", f"alias '{qualifier}' of service '{service}' does not exist"
            )
        return service, qualifier or None

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
        require(kind in ("Sync", "Async"), f"x-fc-invocation-type {kind!r} is not Sync or Async")
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
