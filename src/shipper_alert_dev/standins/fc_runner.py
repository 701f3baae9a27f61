"""The FC 2.0 stand-in's runtime: the uploaded code run as FC's python3.10 runtime runs it.

The zip is unpacked once per upload; `handler(event, context)` runs in a fresh
`python -I -S` subprocess with only the function's variables and FC's `FC_*` ones, a
`context` shaped like FC's (https://www.alibabacloud.com/help/doc-detail/422182.htm) and a
root log handler that prefixes time, request id and level
(https://alibabacloud.com/help/en/functioncompute/logging-2).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipper_alert_dev.standins.fc_resources import LATEST, UNHANDLED_INVOCATION_ERROR
from shipper_alert_dev.standins.fc_signing import FcCredential


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


class FunctionRunner:
    """Runs a function's code for `FcStandIn` (a mixin: the work folder, the role's keys and
    the record of invocations are the stand-in's)."""

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
