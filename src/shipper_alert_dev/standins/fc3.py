"""A loopback stand-in for the Function Compute 3.0 API (2023-03-30), for tests and tools.

It serves what `alibabacloud-fc20230330` sends for a deployment and an invocation: get,
create and update a function, its timer triggers and its async-invoke config, and
invocations. FC 3.0 has no services: role, log config and internet access are the
function's own (https://www.alibabacloud.com/help/en/functioncompute/fc/developer-reference/api-fc-2023-03-30-overview).
Like FC it
- verifies the V3 request signature, `ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=...,
  Signature=<hex>` over the canonical request (method, path, sorted query, the signed
  headers, the body's SHA-256 in `x-acs-content-sha256`), with `x-acs-date` at most 15
  minutes off and `x-acs-security-token` for STS keys
  (fc3_signing);
- answers errors as JSON `{"Code", "Message", "RequestId"}`, which the SDK reads into its
  exceptions, with `x-fc-request-id` on every response;
- runs an invocation's code with the FC 2.0 stand-in's runner, under the interpreter given
  for the function's runtime. On python3.12 the context has no `credentials` and no
  `service` (`log_project`/`log_store` are top level) and the role's STS keys are in
  `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and
  `ALIBABA_CLOUD_SECURITY_TOKEN` (https://help.aliyun.com/en/functioncompute/fc/context-1);
  python3.10 keeps the 2.0-shaped context. A function error is HTTP 200 with
  `x-fc-error-type` and the error JSON, and `x-fc-log-type: Tail` returns the last 4 KB of
  logs base64-encoded in `x-fc-log-result`.

Choices of ours, not FC's: the error codes for a bad signature, key, token or date (the
same as the FC 2.0 stand-in's), the exact validation messages, and that only `LATEST` is
served. Tests read `received`, `exchanges`, `functions`, `triggers`, `async_configs`,
`code(name)` and `invocations`, as with `FcStandIn`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sys
import urllib.parse
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from shipper_alert_dev.standins.base import Received, Reply
from shipper_alert_dev.standins.fc import FcStandIn
from shipper_alert_dev.standins.fc3_signing import verify_v3_request
from shipper_alert_dev.standins.fc_resources import (
    HANDLER,
    LATEST,
    MAX_ASYNC_RETRY_ATTEMPTS,
    MAX_FUNCTION_TIMEOUT,
    NAME,
    ROLE_ARN,
    is_int,
    require,
)
from shipper_alert_dev.standins.fc_signing import FcApiError

API_VERSION = "2023-03-30"
PYTHON_RUNTIMES = ("python3.9", "python3.10", "python3.12")
MAX_ASYNC_EVENT_AGE = 2592000  # maxAsyncEventAgeInSeconds up to 30 days in FC 3.0
NO_SERVICE = ""  # the service part of the keys FcStandIn's stores use


class Fc3StandIn(FcStandIn):
    """A local FC 3.0 API: deploy to it with the real SDK, then invoke what was deployed."""

    name = "fc3"

    def __init__(self, *, pythons: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        """`pythons`: runtime -> interpreter (default: this one for every runtime); the
        other arguments are FcStandIn's."""
        super().__init__(**kwargs)
        self.pythons = dict(pythons or {})

    @property
    def endpoint(self) -> str:
        """What the SDK takes: `host:port` (with `protocol='http'`)."""
        return f"{self.host}:{self.port}"

    # -- for tests and tools ------------------------------------------------------------
    def code(self, function: str) -> bytes:  # type: ignore[override]
        with self._state:
            return self._code[(NO_SERVICE, function)]

    def error_reply(self, status: int, code: str, message: str) -> Reply:
        return Reply(status, {"Code": code, "Message": message, "RequestId": str(uuid.uuid4())})

    def invoke(self, function: str, event: bytes = b"", *, asynchronous: bool = False):  # type: ignore[override]
        with self._state:
            meta = dict(self._function(NO_SERVICE, function))
            code = self._code[(NO_SERVICE, function)]
        return self._run(
            self._pseudo_service(meta), meta, code, event, asynchronous, str(uuid.uuid4())
        )

    # -- the HTTP side ------------------------------------------------------------------
    request_id_header = "x-fc-request-id"

    def _verify(self, request: Received) -> None:
        verify_v3_request(request, self.credentials, self.clock())

    @staticmethod
    def _error_answer(exc: FcApiError, request_id: str) -> Reply:
        return Reply(
            exc.status, {"Code": exc.code, "Message": exc.message, "RequestId": request_id}
        )

    def _route(self, request: Received, request_id: str) -> Reply:  # noqa: PLR0911, PLR0912
        prefix = f"/{API_VERSION}/functions"
        path = urllib.parse.unquote(request.path).rstrip("/")
        if not path.startswith(prefix):
            raise self._unsupported(request)
        parts = [p for p in path[len(prefix) :].split("/") if p]
        method = request.method
        qualifier = (request.query.get("qualifier") or [None])[-1]
        if qualifier not in (None, LATEST):
            raise FcApiError(404, "AliasNotFound", f"alias '{qualifier}' does not exist")
        with self._state:
            if not parts and method == "POST":
                return self._create_function3(self._body(request))
            if not parts:
                raise self._unsupported(request)
            name, rest = parts[0], parts[1:]
            if not rest and method == "GET":
                return Reply(200, dict(self._function(NO_SERVICE, name)))
            if not rest and method == "PUT":
                return self._update_function3(name, self._body(request))
            if rest == ["invocations"] and method == "POST":
                meta = dict(self._function(NO_SERVICE, name))
                code = self._code[(NO_SERVICE, name)]
            elif rest == ["async-invoke-config"] and method == "PUT":
                return self._put_async_config3(name, self._body(request))
            elif rest == ["async-invoke-config"] and method == "GET":
                return self._get_async_config(NO_SERVICE, LATEST, name)
            elif rest == ["triggers"] and method == "POST":
                return self._create_trigger3(name, self._body(request))
            elif len(rest) == 2 and rest[0] == "triggers" and method == "GET":
                return Reply(200, self._trigger(NO_SERVICE, name, rest[1]))
            elif len(rest) == 2 and rest[0] == "triggers" and method == "PUT":
                return self._update_trigger3(name, rest[1], self._body(request))
            else:
                raise self._unsupported(request)
        # Outside the lock: the code may run for a while. Header names as FC 2.0's.
        return self._invocation(self._pseudo_service(meta), meta, code, request, request_id)

    # -- functions ----------------------------------------------------------------------
    def _function(self, service: str, name: str) -> dict[str, Any]:
        function = self.functions.get((service, name))
        if function is None:
            raise FcApiError(404, "FunctionNotFound", f"function '{name}' does not exist")
        return function

    @staticmethod
    def _check_function_fields(body: Mapping[str, Any]) -> None:
        if "runtime" in body:
            require(
                body["runtime"] in PYTHON_RUNTIMES, f"runtime {body['runtime']!r} is not supported"
            )
        if "handler" in body:
            require(bool(HANDLER.fullmatch(str(body["handler"]))), "handler is invalid")
        if "memorySize" in body:
            size = body["memorySize"]
            require(
                is_int(size) and 128 <= size <= 32768 and size % 64 == 0,
                "memorySize must be a multiple of 64 between 128 and 32768",
            )
        if "timeout" in body:
            require(
                is_int(body["timeout"]) and 1 <= body["timeout"] <= MAX_FUNCTION_TIMEOUT,
                f"timeout must be 1..{MAX_FUNCTION_TIMEOUT}",
            )
        if "instanceConcurrency" in body:
            require(
                is_int(body["instanceConcurrency"]) and 1 <= body["instanceConcurrency"] <= 200,
                "instanceConcurrency must be 1..200",
            )
        if body.get("role"):
            require(bool(ROLE_ARN.fullmatch(str(body["role"]))), "role is not a RAM role ARN")
        env = body.get("environmentVariables", {})
        require(
            isinstance(env, dict) and all(isinstance(v, str) for v in env.values()),
            "environmentVariables must map names to strings",
        )
        if "logConfig" in body:
            log_config = body["logConfig"]
            require(
                isinstance(log_config, dict)
                and log_config.get("project")
                and log_config.get("logstore"),
                "logConfig needs project and logstore",
            )

    def _zip(self, body: Mapping[str, Any]) -> bytes:
        code = body.get("code")
        require(
            isinstance(code, dict) and isinstance(code.get("zipFile"), str),
            "code.zipFile is required",
        )
        try:
            return base64.b64decode(code["zipFile"], validate=True)
        except (binascii.Error, ValueError):
            raise FcApiError(400, "InvalidArgument", "code.zipFile is not base64") from None

    def _create_function3(self, body: dict[str, Any]) -> Reply:
        name = body.get("functionName")
        require(isinstance(name, str) and bool(NAME.fullmatch(name)), "functionName is invalid")
        for key in ("runtime", "handler"):
            require(key in body, f"{key} is required")
        self._check_function_fields(body)
        if (NO_SERVICE, name) in self.functions:
            raise FcApiError(409, "FunctionAlreadyExists", f"function '{name}' already exists")
        code = self._zip(body)
        function = {
            "functionName": name,
            "functionId": str(uuid.uuid4()),
            "runtime": body["runtime"],
            "handler": body["handler"],
            "memorySize": body.get("memorySize", 512),
            "timeout": body.get("timeout", 3),
            "instanceConcurrency": body.get("instanceConcurrency", 1),
            "description": body.get("description", ""),
            "environmentVariables": dict(body.get("environmentVariables") or {}),
            "role": body.get("role", ""),
            "internetAccess": body.get("internetAccess", True),
            "logConfig": body.get("logConfig"),
            "createdTime": self._now_iso(),
        }
        self._store(name, function, code)
        return Reply(200, dict(function))

    def _update_function3(self, name: str, body: dict[str, Any]) -> Reply:
        function = self._function(NO_SERVICE, name)
        self._check_function_fields(body)
        code = self._zip(body) if "code" in body else None
        updatable = (
            "runtime",
            "handler",
            "memorySize",
            "timeout",
            "instanceConcurrency",
            "description",
            "environmentVariables",
            "role",
            "internetAccess",
            "logConfig",
        )
        function.update({key: body[key] for key in updatable if key in body})
        if code is not None:
            self._store(name, function, code)
        function["lastModifiedTime"] = self._now_iso()
        return Reply(200, dict(function))

    def _store(self, name: str, function: dict[str, Any], code: bytes) -> None:
        function["codeSize"] = len(code)
        function["codeChecksum"] = str(int.from_bytes(hashlib.sha256(code).digest()[:8], "big"))
        self.functions[(NO_SERVICE, name)] = function
        self._code[(NO_SERVICE, name)] = code

    # -- triggers and async config ---------------------------------------------------------
    def _trigger(self, service: str, function: str, name: str) -> dict[str, Any]:
        self._function(service, function)
        trigger = self.triggers.get((service, function, name))
        if trigger is None:
            raise FcApiError(404, "TriggerNotFound", f"trigger '{name}' does not exist")
        return trigger

    @staticmethod
    def _timer_config(text: Any) -> dict[str, Any]:
        require(isinstance(text, str), "triggerConfig must be a JSON string in FC 3.0")
        try:
            config = json.loads(text)
        except ValueError:
            raise FcApiError(400, "InvalidArgument", "triggerConfig is not JSON") from None
        require(
            isinstance(config, dict) and isinstance(config.get("cronExpression"), str),
            "cronExpression is required",
        )
        require(isinstance(config.get("enable", True), bool), "enable must be a boolean")
        require(isinstance(config.get("payload", ""), str), "payload must be a string")
        return config

    def _create_trigger3(self, function: str, body: dict[str, Any]) -> Reply:
        self._function(NO_SERVICE, function)
        name = body.get("triggerName")
        require(isinstance(name, str) and bool(NAME.fullmatch(name)), "triggerName is invalid")
        require(body.get("triggerType") == "timer", "only timer triggers are served")
        if (NO_SERVICE, function, name) in self.triggers:
            raise FcApiError(409, "TriggerAlreadyExists", f"trigger '{name}' already exists")
        config = self._timer_config(body.get("triggerConfig"))
        trigger = {
            "triggerName": name,
            "triggerType": "timer",
            "triggerConfig": json.dumps(config),
            "qualifier": body.get("qualifier") or LATEST,
            "createdTime": self._now_iso(),
        }
        self.triggers[(NO_SERVICE, function, name)] = trigger
        return Reply(200, dict(trigger))

    def _update_trigger3(self, function: str, name: str, body: dict[str, Any]) -> Reply:
        trigger = self._trigger(NO_SERVICE, function, name)
        if "triggerConfig" in body:
            trigger["triggerConfig"] = json.dumps(self._timer_config(body["triggerConfig"]))
        trigger["lastModifiedTime"] = self._now_iso()
        return Reply(200, dict(trigger))

    def timer_event(self, trigger: str, trigger_time: datetime | None = None) -> bytes:
        with self._state:
            (found,) = [t for (_, _, name), t in self.triggers.items() if name == trigger]
        at = trigger_time or datetime.now(timezone.utc)
        event = {
            "triggerTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "triggerName": trigger,
            "payload": json.loads(found["triggerConfig"]).get("payload", ""),
        }
        return json.dumps(event).encode()

    def _put_async_config3(self, function: str, body: dict[str, Any]) -> Reply:
        self._function(NO_SERVICE, function)
        retries = body.get("maxAsyncRetryAttempts")
        if retries is not None:
            require(
                is_int(retries) and 0 <= retries <= MAX_ASYNC_RETRY_ATTEMPTS,
                "maxAsyncRetryAttempts must be 0..8",
            )
        age = body.get("maxAsyncEventAgeInSeconds")
        if age is not None:
            require(
                is_int(age) and 1 <= age <= MAX_ASYNC_EVENT_AGE,
                "maxAsyncEventAgeInSeconds is out of range",
            )
        config = {
            **body,
            "functionArn": f"acs:fc:{self.region}:{self.account_id}:functions/{function}",
        }
        self.async_configs[(NO_SERVICE, LATEST, function)] = config
        return Reply(200, config)

    # -- invocations --------------------------------------------------------------------
    def _pseudo_service(self, function: Mapping[str, Any]) -> dict[str, Any]:
        """What the FC 2.0 runner reads from a service, taken from the function."""
        return {
            "serviceName": NO_SERVICE,
            "role": function.get("role"),
            "logConfig": function.get("logConfig"),
        }

    def _interpreter(self, function: Mapping[str, Any]) -> str:
        return self.pythons.get(function["runtime"], self.python or sys.executable)

    def _environment(self, service, function, code_dir):
        environment = super()._environment(service, function, code_dir)
        environment.pop("FC_SERVICE_NAME", None)
        if function["runtime"] == "python3.12" and service.get("role"):
            role = self.role_credentials
            environment.update(
                ALIBABA_CLOUD_ACCESS_KEY_ID=role.access_key_id,
                ALIBABA_CLOUD_ACCESS_KEY_SECRET=role.access_key_secret,
                ALIBABA_CLOUD_SECURITY_TOKEN=role.security_token or "",
            )
        return environment

    def _context(self, service, function, request_id):
        context = super()._context(service, function, request_id)
        if function["runtime"] != "python3.12":
            return context
        log_config = service.get("logConfig") or {}
        return {
            "request_id": request_id,
            "function": {
                "name": function["functionName"],
                "handler": function["handler"],
                "memory": function["memorySize"],
                "timeout": function["timeout"],
                "version_id": "",
                "qualifier": LATEST,
            },
            "log_project": log_config.get("project", ""),
            "log_store": log_config.get("logstore", ""),
            "region": self.region,
            "account_id": self.account_id,
        }

    @staticmethod
    def _now_iso() -> str:
        return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
