"""`make deploy FC_VERSION=3`: the template.yml function on Function Compute 3.0.

Speaks the 2023-03-30 API through `alibabacloud-fc20230330` (requirements-deploy.txt).
FC 3.0 has no services (https://www.alibabacloud.com/help/en/functioncompute/fc/user-guide/differences-between-function-compute-3-0-and-function-compute-2-0),
so template.yml's service and function become one function named `<service>-<function>`
(`shipper-alert-check`, as in s.yaml) that carries the role, the log config and internet
access itself. As with FC 2.0, each resource is read first, created when FC answers 404 and
updated otherwise (a create that meets a 409 updates instead), so running it again changes
what differs and duplicates nothing. The SDK signs with ACS3-HMAC-SHA256 and, unlike
aliyun-fc2, does not raise for a function error (HTTP 200 with `x-fc-error-type`), so the
invocation's headers and log tail are always kept.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from shipper_alert_dev.deploy import upsert

QUALIFIER = "LATEST"
MILLISECONDS = 1000


class Fc3Failure(Exception):
    """A request to FC 3.0 that failed, described for the operator."""


def function_name(template: Any) -> str:
    return f"{template.service_name}-{template.function_name}"


def make_client(target: Any, timeout: float):
    from alibabacloud_fc20230330.client import Client  # noqa: PLC0415 - deploy-only dependency
    from alibabacloud_tea_openapi import utils_models  # noqa: PLC0415

    parts = urllib.parse.urlsplit(target.endpoint)
    config = utils_models.Config(
        access_key_id=target.access_key_id,
        access_key_secret=target.access_key_secret.reveal(),
        security_token=target.security_token.reveal() if target.security_token else None,
        endpoint=parts.netloc,
        protocol=parts.scheme,
        region_id=target.region,
        connect_timeout=int(min(timeout, 10) * MILLISECONDS),
        read_timeout=int(timeout * MILLISECONDS),
    )
    return Client(config)


def describe_error(exc: Exception) -> str:
    """`HTTP 404 FunctionNotFound: ... (request id ...)` from the SDK's exception."""
    data = getattr(exc, "data", None) or {}
    code = getattr(exc, "code", None) or "error"
    message = data.get("Message") or data.get("message") or getattr(exc, "message", str(exc))
    text = f"HTTP {getattr(exc, 'status_code', '?')} {code}: {message}"
    request_id = getattr(exc, "request_id", None) or data.get("RequestId")
    if request_id and request_id != "None":
        text += f" (request id {request_id})"
    return text


@contextmanager
def step(what: str, endpoint: str) -> Iterator[None]:
    """Turn what the SDK raises into an Fc3Failure that says which step and why."""
    from alibabacloud_tea_openapi.exceptions import AlibabaCloudException  # noqa: PLC0415

    try:
        yield
    except AlibabaCloudException as exc:
        raise Fc3Failure(f"{what}: {describe_error(exc)}") from None
    except (OSError, ValueError) as exc:
        raise Fc3Failure(f"{what}: cannot reach {endpoint}: {type(exc).__name__}") from None
    except Exception as exc:  # requests' and the Tea runtime's transport errors
        if type(exc).__module__.split(".")[0] in ("requests", "urllib3", "darabonba", "Tea"):
            raise Fc3Failure(
                f"{what}: cannot reach {endpoint}: {type(exc).__name__}: {exc}"
            ) from None
        raise


def _error(status: int, code: str) -> Callable[[Exception], bool]:
    def test(exc: Exception) -> bool:
        from alibabacloud_tea_openapi.exceptions import ClientException  # noqa: PLC0415

        return isinstance(exc, ClientException) and (exc.status_code, exc.code) == (status, code)

    return test


def _exists(get: Callable[[], Any], not_found: str) -> bool:
    return upsert.exists(get, _error(404, not_found))


def _created_or_updated(
    found: bool, create: Callable[[], Any], update: Callable[[], Any], conflict: str
) -> str:
    return upsert.created_or_updated(found, create, update, _error(409, conflict))


def _function_fields(plan: Any) -> dict[str, Any]:
    from alibabacloud_fc20230330 import models  # noqa: PLC0415

    t = plan.template
    log_config = t.log_config
    return {
        "runtime": t.runtime,
        "handler": t.handler,
        "code": models.InputCodeLocation(zip_file=base64.b64encode(t.code.read_bytes()).decode()),
        "memory_size": t.memory_size or 128,
        "timeout": t.timeout or 3,
        "instance_concurrency": t.instance_concurrency,
        "description": t.function_description,
        "environment_variables": plan.env_values,
        "role": plan.role,
        "internet_access": t.internet_access,
        "log_config": models.LogConfig(**log_config) if log_config else None,
    }


def _async_input(config: dict[str, Any]):
    from alibabacloud_fc20230330 import models  # noqa: PLC0415

    destinations = config.get("destinationConfig") or {}
    return models.PutAsyncInvokeConfigInput(
        max_async_retry_attempts=config.get("maxAsyncRetryAttempts"),
        max_async_event_age_in_seconds=config.get("maxAsyncEventAgeInSeconds"),
        async_task=config.get("statefulInvocation"),
        destination_config=models.DestinationConfig(
            on_success=models.Destination(**destinations["onSuccess"])
            if "onSuccess" in destinations
            else None,
            on_failure=models.Destination(**destinations["onFailure"])
            if "onFailure" in destinations
            else None,
        )
        if destinations
        else None,
    )


def deploy(client: Any, plan: Any, out: TextIO) -> None:
    from alibabacloud_fc20230330 import models  # noqa: PLC0415

    t = plan.template
    name = function_name(t)
    endpoint = plan.target.endpoint
    fields = _function_fields(plan)
    with step(f"function {name}", endpoint):
        done = _created_or_updated(
            _exists(
                lambda: client.get_function(name, models.GetFunctionRequest()), "FunctionNotFound"
            ),
            lambda: client.create_function(
                models.CreateFunctionRequest(
                    body=models.CreateFunctionInput(function_name=name, **fields)
                )
            ),
            lambda: client.update_function(
                name, models.UpdateFunctionRequest(body=models.UpdateFunctionInput(**fields))
            ),
            "FunctionAlreadyExists",
        )
    print(f"function {name}: {done} ({t.code.stat().st_size / 1024:.0f} KiB of code)", file=out)

    for trigger in t.triggers:
        config = json.dumps(trigger.config)
        with step(f"trigger {trigger.name}", endpoint):
            done = _created_or_updated(
                _exists(
                    lambda trigger=trigger: client.get_trigger(name, trigger.name),
                    "TriggerNotFound",
                ),
                lambda trigger=trigger, config=config: client.create_trigger(
                    name,
                    models.CreateTriggerRequest(
                        body=models.CreateTriggerInput(
                            trigger_name=trigger.name,
                            trigger_type="timer",
                            trigger_config=config,
                            qualifier=QUALIFIER,
                        )
                    ),
                ),
                lambda trigger=trigger, config=config: client.update_trigger(
                    name,
                    trigger.name,
                    models.UpdateTriggerRequest(
                        body=models.UpdateTriggerInput(trigger_config=config, qualifier=QUALIFIER)
                    ),
                ),
                "TriggerAlreadyExists",
            )
        print(f"trigger {trigger.name}: {done}", file=out)

    if t.async_config is not None:
        with step("async invocation config", endpoint):
            client.put_async_invoke_config(
                name,
                models.PutAsyncInvokeConfigRequest(
                    body=_async_input(t.async_config), qualifier=QUALIFIER
                ),
            )
        print(f"async invocation config ({QUALIFIER}): set", file=out)


def invoke(client: Any, name: str, payload: bytes, endpoint: str) -> tuple[dict[str, str], bytes]:
    """One sync invocation with the log tail: (response headers, body)."""
    import io  # noqa: PLC0415

    from alibabacloud_fc20230330 import models  # noqa: PLC0415
    from darabonba.runtime import RuntimeOptions  # noqa: PLC0415

    with step(f"invoke {name}", endpoint):
        response = client.invoke_function_with_options(
            name,
            models.InvokeFunctionRequest(body=io.BytesIO(payload), qualifier=QUALIFIER),
            models.InvokeFunctionHeaders(x_fc_invocation_type="Sync", x_fc_log_type="Tail"),
            RuntimeOptions(),
        )
        body = response.body.read() if response.body is not None else b""
    headers = {k.lower(): v for k, v in (response.headers or {}).items()}
    return headers, body
