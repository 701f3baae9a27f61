"""`make deploy` / `make invoke` with FC_VERSION=3 against the FC 3.0 stand-in, end to end.

The real alibabacloud-fc20230330 SDK signs every request (ACS3-HMAC-SHA256) and the
stand-in checks the signatures; the code deployed is the package `make package` builds, and
it is run under python3.10 (the context carries the role's keys) and python3.12 (the keys
come in ALIBABA_CLOUD_* variables), with the interpreters pyenv provides when present.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shipper_alert_dev.standins.dingtalk import DingTalkStandIn
from shipper_alert_dev.standins.fc3 import Fc3StandIn
from shipper_alert_dev.standins.fc_signing import FcCredential

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "fc.py"
SCENARIO = ROOT / "scenarios" / "demo.json"
ROLE_ARN = "acs:ram::1234567890123456:role/shipper-alert"
FUNCTION = "shipper-alert-check"
DEPLOYER = FcCredential("LTAI-fc3-deployer", "fc3-deployer-secret-0123", "fc3-deployer-sts-token")
ROLE_STS = FcCredential("STS.fc3-role", "fc3-role-sts-secret-abc", "fc3-role-sts-token-abc")
DINGTALK_TOKEN = "dingtalk-fc3-token-8c2d"
DINGTALK_SECRET = "SECdingtalk-fc3-secret-4e1"
PYENV = Path.home() / ".pyenv" / "versions"


def interpreter(version: str) -> str | None:
    """python<version> from pyenv or PATH, if this machine has it."""
    candidates = [*sorted(PYENV.glob(f"{version}.*/bin/python")), shutil.which(f"python{version}")]
    for candidate in filter(None, candidates):
        probe = subprocess.run(  # noqa: S603 - a fixed probe
            [str(candidate), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.stdout.strip() == version:
            return str(candidate)
    return None


PYTHONS = {
    runtime: interpreter(runtime[len("python") :]) for runtime in ("python3.10", "python3.12")
}


@pytest.fixture
def fc3(code_package):
    pythons = {runtime: path for runtime, path in PYTHONS.items() if path}
    standin = Fc3StandIn(pythons=pythons, credentials=[DEPLOYER], role_credentials=ROLE_STS).start()
    yield standin
    standin.stop()


@pytest.fixture
def sim(sls_sim):
    simulator = sls_sim(SCENARIO)
    simulator.scenario.add_credential(
        ROLE_STS.access_key_id, ROLE_STS.access_key_secret, ROLE_STS.security_token
    )
    return simulator


@pytest.fixture
def dingtalk():
    standin = DingTalkStandIn(DINGTALK_TOKEN, secret=DINGTALK_SECRET).start()
    yield standin
    standin.stop()


@pytest.fixture
def env(fc3, sim, dingtalk, tmp_path):
    env_file = tmp_path / "shipper-alert.env"
    env_file.write_text(
        f"SLS_ENDPOINT={sim.endpoint}\n"
        "SHIPPERS=shop-prod/*/*\n"
        f"DINGTALK_WEBHOOK_URL={dingtalk.webhook_url}\n"
        f"DINGTALK_SECRET={DINGTALK_SECRET}\n"
        # The simulated shipper has failed for hours: a stateless timer check takes that for
        # an episode already notified and holds it; a reminder every window sends each one.
        "REMIND_INTERVAL=5m\n"
    )
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "FC_VERSION": "3",
        "FC_ENDPOINT": fc3.url,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": DEPLOYER.access_key_id,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEPLOYER.access_key_secret,
        "ALIBABA_CLOUD_SECURITY_TOKEN": DEPLOYER.security_token,
        "FC_ROLE_ARN": ROLE_ARN,
        "SHIPPER_ALERT_ENV_FILE": str(env_file),
    }


def tool(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and tool
        [sys.executable, str(TOOL), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def deployed(env) -> subprocess.CompletedProcess:
    done = tool("deploy", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_deploy_creates_the_function_trigger_and_async_config(
    fc3, env, sim, dingtalk, code_package
):
    done = deployed(env)
    function = fc3.functions[("", FUNCTION)]
    assert (function["handler"], function["runtime"], function["role"]) == (
        "index.handler",
        "python3.10",
        ROLE_ARN,
    )
    assert (function["memorySize"], function["timeout"], function["internetAccess"]) == (
        128,
        120,
        True,
    )
    assert function["environmentVariables"]["SHIPPERS"] == "shop-prod/*/*"
    assert function["environmentVariables"]["DINGTALK_SECRET"] == DINGTALK_SECRET
    assert fc3.code(FUNCTION) == code_package.read_bytes()
    trigger = fc3.triggers[("", FUNCTION, "every-5m")]
    assert json.loads(trigger["triggerConfig"]) == {
        "cronExpression": "0 0/5 * * * *",
        "enable": True,
        "payload": "",
    }
    async_config = fc3.async_configs[("", "LATEST", FUNCTION)]
    assert (async_config["maxAsyncRetryAttempts"], async_config["maxAsyncEventAgeInSeconds"]) == (
        2,
        3600,
    )
    assert [(e.method, e.status, e.error_code) for e in fc3.exchanges] == [
        ("GET", 404, "FunctionNotFound"),
        ("POST", 200, None),
        ("GET", 404, "TriggerNotFound"),
        ("POST", 200, None),
        ("PUT", 200, None),
    ]
    for line in (
        f"function {FUNCTION}: created",
        "trigger every-5m: created",
        "async invocation config (LATEST): set",
    ):
        assert line in done.stdout
    assert "(Function Compute 3.0)" in done.stdout
    for secret in (
        DEPLOYER.access_key_secret,
        DEPLOYER.security_token,
        DINGTALK_SECRET,
        DINGTALK_TOKEN,
    ):
        assert secret not in done.stdout + done.stderr


def test_a_second_deploy_updates_in_place(fc3, env):
    deployed(env)
    first = len(fc3.exchanges)
    done = deployed({**env, "FC_ENV_LOG_LEVEL": "DEBUG"})
    assert [(e.method, e.status) for e in fc3.exchanges[first:]] == [
        ("GET", 200),
        ("PUT", 200),
        ("GET", 200),
        ("PUT", 200),
        ("PUT", 200),
    ]
    assert len(fc3.functions) == 1
    assert len(fc3.triggers) == 1
    assert fc3.functions[("", FUNCTION)]["environmentVariables"]["LOG_LEVEL"] == "DEBUG"
    assert f"function {FUNCTION}: updated" in done.stdout


def test_a_create_that_meets_a_conflict_updates_instead(fc3, env):
    deployed(env)
    fc3.fail_next(fc3.error_reply(404, "FunctionNotFound", "function does not exist"))
    done = deployed(env)
    assert f"function {FUNCTION}: updated" in done.stdout
    assert ("POST", 409, "FunctionAlreadyExists") in [
        (e.method, e.status, e.error_code) for e in fc3.exchanges
    ]


def test_a_wrong_key_secret_stops_deploy_with_the_signature_error(fc3, env):
    done = tool("deploy", env={**env, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "not-the-secret-77"})
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: function {FUNCTION}: HTTP 403 SignatureNotMatch: ")
    assert "not-the-secret-77" not in done.stdout + done.stderr
    assert fc3.functions == {}


def test_invoke_prints_the_result_and_the_logs(fc3, env, sim):
    deployed(env)
    done = tool("invoke", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    head, rest = done.stdout.split("--- result:\n", 1)
    result_text, logs = rest.split("--- logs (the last 4 KB):\n", 1)
    assert f"Invoking {FUNCTION} at " in head
    result = json.loads(result_text)
    assert result["ok"] is True
    assert result["dryRun"] is True
    (invocation,) = fc3.invocations
    assert logs.startswith(f"FC Invoke Start RequestId: {invocation.request_id}\n")


def test_invoke_reports_the_functions_error(fc3, env):
    # The function then has no shipper to watch, and raises ConfigError.
    skipped = tool("deploy", "--skip-config-check", env={**env, "FC_ENV_SHIPPERS": ""})
    assert skipped.returncode == 0, skipped.stderr
    done = tool("invoke", env=env)
    assert done.returncode == 1
    assert "--- error:" in done.stdout
    assert "error: the function failed (UnhandledInvocationError): ConfigError: " in done.stderr


@pytest.mark.parametrize("runtime", ["python3.10", "python3.12"])
def test_the_zips_handler_runs_on_each_runtime_and_reads_sls_with_the_roles_keys(
    fc3, env, sim, dingtalk, runtime
):
    if PYTHONS[runtime] is None:
        pytest.skip(f"no {runtime} interpreter on this machine")
    deployed(env)
    fc3.functions[("", FUNCTION)]["runtime"] = runtime  # as if template.yml said so
    invocation = fc3.invoke(FUNCTION, fc3.timer_event("every-5m"), asynchronous=True)
    assert invocation.error_type is None, invocation.logs.decode()
    result = json.loads(invocation.body)
    assert result["ok"] is True
    assert result["notifications"][0]["delivered"] is True
    tokens = {r.headers.get("x-acs-security-token") for r in sim.received}
    assert tokens == {ROLE_STS.security_token}
    credentials_from_env = "ALIBABA_CLOUD_SECURITY_TOKEN" in invocation.environment
    assert credentials_from_env is (runtime == "python3.12")
    version = runtime[len("python") :]
    assert (
        f"Python {version}"
        in subprocess.run(  # noqa: S603 - the stand-in's interpreter
            [fc3.pythons[runtime], "--version"], capture_output=True, text=True, check=True
        ).stdout
    )


def test_an_unknown_fc_version_is_a_problem(env):
    done = tool("deploy", env={**env, "FC_VERSION": "4"})
    assert done.returncode == 2
    assert "  FC_VERSION: '4' is not 2 or 3 (Function Compute 2.0 or 3.0)" in done.stderr
