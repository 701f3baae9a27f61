"""The FC 2.0 stand-in's resources: services, functions, timer triggers, async configs.

What the API checks and stores when `aliyun-fc2` creates or updates each of them, with FC's
limits (docs/vendors.md, "Function Compute 2.0 API"); `FcStandIn` routes requests here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import uuid
import zipfile
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from shipper_alert_dev.standins.base import Reply
from shipper_alert_dev.standins.fc_signing import FcApiError

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

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,127}")
ROLE_ARN = re.compile(r"acs:ram::\d+:role/[A-Za-z0-9_.@-]+", re.IGNORECASE)
HANDLER = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*\.[A-Za-z_][A-Za-z0-9_]*")


def _iso_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def require(condition: bool, message: str) -> None:
    if not condition:
        raise FcApiError(400, "InvalidArgument", message)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class FcResources:
    """The services, functions, triggers and async configs of `FcStandIn` (a mixin: the
    stores and the lock are the stand-in's)."""

    # -- services -----------------------------------------------------------------------
    def _service(self, name: str) -> dict[str, Any]:
        if name not in self.services:
            raise FcApiError(404, "ServiceNotFound", f"service '{name}' does not exist")
        return self.services[name]

    @staticmethod
    def _check_service_fields(body: Mapping[str, Any]) -> None:
        role = body.get("role")
        require(
            role is None or (isinstance(role, str) and bool(ROLE_ARN.fullmatch(role))),
            f"role {role!r} is not a RAM role ARN (acs:ram::<account>:role/<name>)",
        )
        log_config = body.get("logConfig")
        require(
            log_config is None
            or (
                isinstance(log_config, dict)
                and all(isinstance(log_config.get(k, ""), str) for k in ("project", "logstore"))
            ),
            "logConfig must be an object with string project and logstore",
        )
        access = body.get("internetAccess")
        require(access is None or isinstance(access, bool), "internetAccess must be a boolean")
        description = body.get("description")
        require(description is None or isinstance(description, str), "description must be a string")

    def _create_service(self, body: dict[str, Any]) -> Reply:
        name = body.get("serviceName")
        require(
            isinstance(name, str) and bool(NAME.fullmatch(name)),
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
        require(
            runtime is None or runtime in PYTHON_RUNTIMES,
            f"runtime {runtime!r} is not one this stand-in runs ({', '.join(PYTHON_RUNTIMES)})",
        )
        handler = body.get("handler")
        require(
            handler is None or (isinstance(handler, str) and bool(HANDLER.fullmatch(handler))),
            f"handler {handler!r} is not 'module.function'",
        )
        for key, low, high in (
            ("memorySize", 64, 32768),
            ("timeout", 1, MAX_FUNCTION_TIMEOUT),
            ("initializationTimeout", 1, 300),
            ("instanceConcurrency", 1, 200),
        ):
            value = body.get(key)
            require(
                value is None or (is_int(value) and low <= value <= high),
                f"{key} {value!r} is outside {low}..{high}",
            )
        env = body.get("environmentVariables")
        require(
            env is None
            or (
                isinstance(env, dict)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
            ),
            "environmentVariables must map strings to strings",
        )

    @staticmethod
    def _decode_code(code: Any) -> bytes:
        require(isinstance(code, dict), "code must be an object")
        require(
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
        require(
            isinstance(name, str) and bool(NAME.fullmatch(name)),
            f"functionName {name!r} is invalid",
        )
        require(bool(body.get("runtime")), "runtime is required")
        require(bool(body.get("handler")), "handler is required")
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
        require(isinstance(config, dict), "triggerConfig must be an object")
        cron = config.get("cronExpression")
        require(isinstance(cron, str) and bool(cron.strip()), "cronExpression is required")
        fields = re.sub(r"^CRON_TZ=\S+\s+", "", cron.strip()).split()
        require(
            cron.strip().startswith("@every ") or len(fields) == 6,
            f"cronExpression {cron!r} is neither '@every <duration>' nor 6 fields (seconds first)",
        )
        require(isinstance(config.get("enable", True), bool), "enable must be a boolean")
        require(isinstance(config.get("payload", ""), str), "payload must be a string")

    def _create_trigger(self, service: str, function: str, body: dict[str, Any]) -> Reply:
        self._function(service, function)
        name = body.get("triggerName")
        require(
            isinstance(name, str) and bool(NAME.fullmatch(name)),
            f"triggerName {name!r} is invalid",
        )
        require(
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
        require(
            attempts is None or (is_int(attempts) and 0 <= attempts <= MAX_ASYNC_RETRY_ATTEMPTS),
            f"maxAsyncRetryAttempts {attempts!r} is outside 0..{MAX_ASYNC_RETRY_ATTEMPTS}",
        )
        require(
            age is None or (is_int(age) and 1 <= age <= MAX_ASYNC_EVENT_AGE),
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
