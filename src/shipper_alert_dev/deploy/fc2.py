"""`make deploy` / `make invoke` on Function Compute 2.0, through aliyun-fc2 2.5.2.

Each resource is read first, created when FC answers 404 and updated otherwise; what the
SDK raises becomes a `Failure` naming the step, FC's code and a hint
(docs/vendors.md, "Function Compute 2.0 API", for the SDK's quirks).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from shipper_alert.config import ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN
from shipper_alert_dev.deploy import upsert
from shipper_alert_dev.deploy.target import Target

QUALIFIER = "LATEST"  # the unpublished version, which timers invoke by default

HINTS = {
    "SignatureNotMatch": f"check {ACCESS_KEY_ID} and {ACCESS_KEY_SECRET}",
    "InvalidAccessKeyID": f"check {ACCESS_KEY_ID}",
    "InvalidSecurityToken": f"check {SECURITY_TOKEN} (needed with STS keys, and it expires)",
    "RequestTimeTooSkewed": "this machine's clock is more than 15 minutes off",
    "AccessDenied": "the key may not manage Function Compute (fc:*) in this account",
    "ServiceNotFound": "run make deploy first",
    "FunctionNotFound": "run make deploy first",
}


class Failure(Exception):
    """A request that failed, described for the operator."""


def code_size(path: Path) -> str:
    return f"{path.stat().st_size / 1024:.0f} KiB" if path.is_file() else "?"


def make_client(target: Target, timeout: float):
    import fc2  # noqa: PLC0415 - requirements-deploy.txt, installed by make deploy/invoke

    return fc2.Client(
        endpoint=target.endpoint,
        accessKeyID=target.access_key_id,
        accessKeySecret=target.access_key_secret.reveal(),
        securityToken=target.security_token.reveal() if target.security_token else "",
        Timeout=timeout,
    )


def _error_fields(exc: Exception) -> dict[str, Any]:
    try:
        data = json.loads(getattr(exc, "message", "") or "")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def error_code(exc: Exception) -> str:
    return str(_error_fields(exc).get("ErrorCode") or getattr(exc, "err_code", "") or "")


def describe_fc_error(exc: Exception) -> str:
    fields = _error_fields(exc)
    code = error_code(exc) or "error"
    message = fields.get("ErrorMessage") or getattr(exc, "message", "") or str(exc)
    text = f"HTTP {getattr(exc, 'status_code', '?')} {code}: {message}"
    request_id = getattr(exc, "request_id", "")
    if request_id:
        text += f" (request id {request_id})"
    hint = HINTS.get(code)
    return f"{text}; {hint}" if hint else text


@contextmanager
def step(what: str, endpoint: str) -> Iterator[None]:
    """Turn what the SDK raises into a Failure that says which step and why."""
    import fc2  # noqa: PLC0415
    import requests  # noqa: PLC0415

    try:
        yield
    except fc2.FcError as exc:
        raise Failure(f"{what}: {describe_fc_error(exc)}") from None
    except requests.exceptions.JSONDecodeError as exc:
        raise Failure(
            f"{what}: {endpoint} answered with a body that is not FC's JSON (a proxy or a wrong "
            f"FC_ENDPOINT?): {exc.doc[:200]!r}"
        ) from None
    except requests.exceptions.RetryError as exc:
        raise Failure(f"{what}: FC kept failing after the SDK's retries ({exc})") from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise Failure(f"{what}: cannot reach {endpoint}: {type(exc).__name__}: {exc}") from None


def _fc_error(status: int, code: str) -> Callable[[Exception], bool]:
    def test(exc: Exception) -> bool:
        import fc2  # noqa: PLC0415

        return isinstance(exc, fc2.FcError) and (exc.status_code, error_code(exc)) == (status, code)

    return test


def _exists(get: Callable[[], Any], not_found: str) -> bool:
    return upsert.exists(get, _fc_error(404, not_found))


def _created_or_updated(
    exists: bool, create: Callable[[], Any], update: Callable[[], Any], conflict: str
) -> str:
    """Create, or update what exists; a create that meets a 409 (a race) updates instead."""
    return upsert.created_or_updated(exists, create, update, _fc_error(409, conflict))


def deploy(client: Any, plan: Any, out: TextIO) -> None:
    t = plan.template
    endpoint = plan.target.endpoint
    service_fields = {
        "description": t.service_description,
        "logConfig": t.log_config,
        "role": plan.role,
        "internetAccess": t.internet_access,
    }
    with step(f"service {t.service_name}", endpoint):
        done = _created_or_updated(
            _exists(lambda: client.get_service(t.service_name), "ServiceNotFound"),
            lambda: client.create_service(t.service_name, **service_fields),
            lambda: client.update_service(t.service_name, **service_fields),
            "ServiceAlreadyExists",
        )
    print(f"service {t.service_name}: {done}", file=out)

    function_fields = {
        "description": t.function_description,
        "memorySize": t.memory_size,
        "timeout": t.timeout,
        "environmentVariables": plan.env_values,
        "instanceConcurrency": t.instance_concurrency,
        "codeZipFile": str(t.code),
    }
    # create_function has defaults of its own (256 MB, 60 s): send the FC defaults instead.
    create_fields = {**function_fields, "memorySize": t.memory_size or 128}
    create_fields["timeout"] = t.timeout or 3
    with step(f"function {t.function_name}", endpoint), warnings.catch_warnings():
        # The SDK opens codeZipFile and never closes it.
        warnings.simplefilter("ignore", ResourceWarning)
        done = _created_or_updated(
            _exists(
                lambda: client.get_function(t.service_name, t.function_name), "FunctionNotFound"
            ),
            lambda: client.create_function(
                t.service_name, t.function_name, t.runtime, t.handler, **create_fields
            ),
            lambda: client.update_function(
                t.service_name,
                t.function_name,
                handler=t.handler,
                runtime=t.runtime,
                **function_fields,
            ),
            "FunctionAlreadyExists",
        )
    print(f"function {t.function_name}: {done} ({code_size(t.code)} of code)", file=out)

    for trigger in t.triggers:
        with step(f"trigger {trigger.name}", endpoint):
            done = _created_or_updated(
                _exists(
                    lambda trigger=trigger: client.get_trigger(
                        t.service_name, t.function_name, trigger.name
                    ),
                    "TriggerNotFound",
                ),
                lambda trigger=trigger: client.create_trigger(
                    t.service_name,
                    t.function_name,
                    trigger.name,
                    "timer",
                    trigger.config,
                    None,
                    None,
                ),
                lambda trigger=trigger: client.update_trigger(
                    t.service_name, t.function_name, trigger.name, triggerConfig=trigger.config
                ),
                "TriggerAlreadyExists",
            )
        print(f"trigger {trigger.name}: {done}", file=out)

    if t.async_config is not None:
        with step("async invocation config", endpoint):
            client.put_function_async_invoke_config(
                t.service_name, QUALIFIER, t.function_name, t.async_config
            )
        print(f"async invocation config ({QUALIFIER}): set", file=out)


def invoke_with_logs(client: Any, service: str, function: str, payload: bytes):
    """A sync invocation whose response keeps its headers even when the function failed.

    `Client.invoke_function` raises FcError for X-Fc-Error-Type and drops the headers,
    X-Fc-Log-Result among them; these are the same two steps it takes, minus that.
    """
    path = f"/{client.api_version}/services/{service}/functions/{function}/invocations"
    headers = {"x-fc-invocation-type": "Sync", "x-fc-log-type": "Tail"}
    signed = client._build_common_headers("POST", path, headers)
    return client._do_request("POST", path, signed, body=payload)
