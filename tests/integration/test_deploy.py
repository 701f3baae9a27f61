"""`make deploy` and `make invoke` (tools/fc.py) against the fake FC API, end to end.

The real aliyun-fc2 SDK signs every request and the fake checks the signatures; the code
package deployed is the one `make package` builds, and invocations run it in a subprocess
that reads the local SLS simulator with the STS keys FC hands the function's role.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from shipper_alert_dev.standins.base import Reply
from shipper_alert_dev.standins.dingtalk import DingTalkStandIn
from shipper_alert_dev.standins.fc import FcStandIn
from shipper_alert_dev.standins.fc_signing import FcCredential
from tools_loader import load_tool

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "fc.py"
SCENARIO = ROOT / "scenarios" / "demo.json"
ROLE_ARN = "acs:ram::1234567890123456:role/shipper-alert"

# Deploying needs the FC package, built for this session (tools/package.py): `make test-fast`
# leaves these out.
pytestmark = pytest.mark.slow

# The deployer's key, with an STS token so that the token's handling is checked too.
DEPLOYER = FcCredential("LTAI-deployer", "deployer-key-secret-0123456789", "deployer-sts-token-xyz")
# What FC hands a function whose service has a role (context.credentials).
ROLE_STS = FcCredential("STS.role-key", "role-sts-secret-abcdef", "role-sts-token-abcdef")
# Secrets that reach the function only through SHIPPER_ALERT_ENV_FILE / FC_ENV_*.
DINGTALK_TOKEN = "dingtalk-access-token-5f3c9a7e"
DINGTALK_SECRET = "SECdingtalk-signing-secret-91b2"
SMTP_PASSWORD = "smtp-password-never-shown-77"
OVERRIDE_SECRETS = (DINGTALK_TOKEN, DINGTALK_SECRET, SMTP_PASSWORD)
NEVER_SENT = (DEPLOYER.access_key_secret, ROLE_STS.access_key_secret, *OVERRIDE_SECRETS)


fc_tool = load_tool("fc")


@pytest.fixture(scope="session")
def runtime_python() -> str:
    """FC's python3.10 when this machine has it (the package's wheels are built for it),
    else the interpreter running the tests."""
    candidate = shutil.which("python3.10")
    if candidate:
        probe = subprocess.run(  # noqa: S603 - a fixed command
            [candidate, "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 10)":
            return candidate
    return sys.executable


@pytest.fixture
def fc(code_package, runtime_python):
    standin = FcStandIn(
        credentials=[DEPLOYER], role_credentials=ROLE_STS, python=runtime_python
    ).start()
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
def env(fc, sim, dingtalk, tmp_path):
    """A complete deployment environment: the fake FC, the simulator, secrets in a file."""
    env_file = tmp_path / "shipper-alert.env"
    env_file.write_text(
        "# secrets for the function, kept out of template.yml\n"
        f"SLS_ENDPOINT={sim.endpoint}\n"
        "export SHIPPERS='shop-prod/*/*'\n"
        f'DINGTALK_WEBHOOK_URL="{dingtalk.webhook_url}"\n'
        f"DINGTALK_SECRET={DINGTALK_SECRET}\n"
    )
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "FC_ENDPOINT": fc.endpoint,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": DEPLOYER.access_key_id,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEPLOYER.access_key_secret,
        "ALIBABA_CLOUD_SECURITY_TOKEN": DEPLOYER.security_token,
        "FC_ROLE_ARN": ROLE_ARN,
        "SHIPPER_ALERT_ENV_FILE": str(env_file),
        # Email is configured but never used by a dry run: its password is one more secret.
        "FC_ENV_EMAIL_TO": "oncall@example.com",
        "FC_ENV_EMAIL_FROM": "alerts@example.com",
        "FC_ENV_SMTP_HOST": "127.0.0.1",
        "FC_ENV_SMTP_PORT": "1",
        "FC_ENV_SMTP_SECURITY": "none",
        "FC_ENV_SMTP_USERNAME": "alerts",
        "FC_ENV_SMTP_PASSWORD": SMTP_PASSWORD,
    }


def tool(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """tools/fc.py as `make deploy` / `make invoke` run it."""
    return subprocess.run(  # noqa: S603 - our own interpreter and tool
        [sys.executable, str(TOOL), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def tool_in_process(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = fc_tool.main(list(args), env, out, err)
    return code, out.getvalue(), err.getvalue()


def deployed(env) -> subprocess.CompletedProcess:
    done = tool("deploy", env=env)
    assert done.returncode == 0, done.stderr
    return done


def template_environment() -> dict[str, str]:
    template, problems = fc_tool.read_template(ROOT / "template.yml")
    assert problems == []
    return {k: v for k, v in template.environment.items() if v}


# -- deploy --------------------------------------------------------------------------------
def test_deploy_creates_everything_on_a_fresh_fc(fc, env, sim, dingtalk):
    done = deployed(env)

    assert fc.services["shipper-alert"]["role"] == ROLE_ARN
    assert fc.services["shipper-alert"]["internetAccess"] is True
    assert fc.services["shipper-alert"]["description"].startswith("Alerts on failed SLS")
    function = fc.functions[("shipper-alert", "check")]
    assert (function["handler"], function["runtime"]) == ("index.handler", "python3.10")
    assert (function["memorySize"], function["timeout"], function["instanceConcurrency"]) == (
        128,
        120,
        1,
    )
    assert function["environmentVariables"] == {
        **template_environment(),
        "SLS_ENDPOINT": sim.endpoint,
        "SHIPPERS": "shop-prod/*/*",
        "DINGTALK_WEBHOOK_URL": dingtalk.webhook_url,
        "DINGTALK_SECRET": DINGTALK_SECRET,
        "EMAIL_TO": "oncall@example.com",
        "EMAIL_FROM": "alerts@example.com",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": "1",
        "SMTP_SECURITY": "none",
        "SMTP_USERNAME": "alerts",
        "SMTP_PASSWORD": SMTP_PASSWORD,
    }
    assert fc.triggers[("shipper-alert", "check", "every-5m")]["triggerConfig"] == {
        "cronExpression": "0 0/5 * * * *",
        "enable": True,
        "payload": "",
    }
    async_config = fc.async_configs[("shipper-alert", "LATEST", "check")]
    assert (async_config["maxAsyncRetryAttempts"], async_config["maxAsyncEventAgeInSeconds"]) == (
        2,
        3600,
    )
    assert [(e.method, e.status, e.error_code) for e in fc.exchanges] == [
        ("GET", 404, "ServiceNotFound"),
        ("POST", 200, None),
        ("GET", 404, "FunctionNotFound"),
        ("POST", 200, None),
        ("GET", 404, "TriggerNotFound"),
        ("POST", 200, None),
        ("PUT", 200, None),
    ]
    for line in (
        "service shipper-alert: created",
        "function check: created",
        "trigger every-5m: created",
        "async invocation config (LATEST): set",
        "  Allow log:GetShipperStatus on acs:log:*:*:project/shop-prod/logstore/*, "
        "acs:log:*:*:project/shop-prod/logstore/*/*",
        "  Allow log:ListLogStores on acs:log:*:*:project/shop-prod/logstore/*",
        "  Allow log:ListShipper on acs:log:*:*:project/shop-prod/logstore/*",
        "    DINGTALK_SECRET=***  (SHIPPER_ALERT_ENV_FILE)",
        "    SMTP_PASSWORD=***  (FC_ENV_SMTP_PASSWORD)",
        "    ALERT_TIMEZONE=Asia/Shanghai",
    ):
        assert line in done.stdout
    assert done.stderr == ""


def test_the_uploaded_code_is_the_package_without_the_laptop_parts(fc, env, code_package):
    deployed(env)
    code = fc.code("shipper-alert", "check")
    assert code == code_package.read_bytes()
    names = zipfile.ZipFile(io.BytesIO(code)).namelist()
    assert "index.py" in names
    assert "shipper_alert/handler.py" in names
    assert any(n.startswith("requests/") for n in names)
    assert any(n.startswith("jinja2/") for n in names)
    laptop_only = (
        "shipper_alert_dev/sim/",
        "shipper_alert_dev/standins/",
        "shipper_alert_dev/demo.py",
    )
    assert [n for n in names if n.startswith(laptop_only)] == []


def test_a_second_deploy_updates_in_place(fc, env):
    deployed(env)
    first = len(fc.exchanges)
    done = deployed({**env, "FC_ENV_LOG_LEVEL": "DEBUG"})

    assert len(fc.services) == 1
    assert len(fc.functions) == 1
    assert len(fc.triggers) == 1
    assert len(fc.async_configs) == 1
    second = fc.exchanges[first:]
    assert [(e.method, e.status) for e in second] == [
        ("GET", 200),
        ("PUT", 200),
        ("GET", 200),
        ("PUT", 200),
        ("GET", 200),
        ("PUT", 200),
        ("PUT", 200),
    ]
    assert fc.functions[("shipper-alert", "check")]["environmentVariables"]["LOG_LEVEL"] == "DEBUG"
    assert "service shipper-alert: updated" in done.stdout
    assert "function check: updated" in done.stdout
    assert "trigger every-5m: updated" in done.stdout


def test_a_create_that_meets_a_conflict_updates_instead(fc, env):
    """Someone else created the service between our read and our create."""
    deployed(env)
    # Our read says "not found", but the service exists by the time we create it.
    fc.fail_next(fc.error_reply(404, "ServiceNotFound", "service 'shipper-alert' does not exist"))
    done = deployed(env)
    assert "service shipper-alert: updated" in done.stdout
    assert ("POST", 409, "ServiceAlreadyExists") in [
        (e.method, e.status, e.error_code) for e in fc.exchanges
    ]
    assert len(fc.services) == 1


def test_secrets_appear_only_in_the_function_environment(fc, env):
    deploy = deployed(env)
    invoke = tool("invoke", env=env)
    assert invoke.returncode == 0, invoke.stderr

    printed = deploy.stdout + deploy.stderr + invoke.stdout + invoke.stderr
    for secret in (*NEVER_SENT, DEPLOYER.security_token):
        assert secret not in printed
    for request in fc.received:
        headers = json.dumps(request.headers)
        for secret in NEVER_SENT:
            assert secret not in headers
        body = request.body.decode("utf-8", errors="replace")
        if request.method in ("POST", "PUT") and request.path.endswith(("/functions", "/check")):
            document = request.json
            environment = document.pop("environmentVariables")
            assert environment["SMTP_PASSWORD"] == SMTP_PASSWORD
            assert environment["DINGTALK_SECRET"] == DINGTALK_SECRET
            body = json.dumps(document)
        for secret in NEVER_SENT:
            assert secret not in body
    # The deployer's token goes where FC expects it, and nowhere else.
    assert all(r.headers["x-fc-security-token"] == DEPLOYER.security_token for r in fc.received)


def test_a_secret_in_template_yml_draws_a_warning(fc, env, tmp_path):
    template = (ROOT / "template.yml").read_text()
    template = template.replace("DINGTALK_SECRET: ''", "DINGTALK_SECRET: 'SECcommitted-by-mistake'")
    template = template.replace("./dist/", f"{ROOT}/dist/")
    path = tmp_path / "template.yml"
    path.write_text(template)
    done = tool("deploy", "--template", str(path), env=env)
    assert done.returncode == 0, done.stderr
    assert "warning: template.yml sets the secret DINGTALK_SECRET" in done.stderr
    assert "SECcommitted-by-mistake" not in done.stdout + done.stderr


def test_the_environment_listing_masks_overrides_and_secret_variables():
    variables = fc_tool.merge_environment(
        {"LOG_LEVEL": "INFO", "SMTP_PASSWORD": "in-the-template", "DRY_RUN": ""},
        {"FC_ENV_SHIPPERS": "p/l/s", "FC_ENV_LOG_LEVEL": ""},
    )[0]
    assert {name: (v.shown, v.source) for name, v in variables.items()} == {
        # An empty override unsets the template's value; empty variables are not deployed.
        "SHIPPERS": ("***", "FC_ENV_SHIPPERS"),
        "SMTP_PASSWORD": ("***", "template.yml"),
    }
    variables = fc_tool.merge_environment({"LOG_LEVEL": "INFO"}, {})[0]
    assert variables["LOG_LEVEL"].shown == "INFO"


# -- problems before any request -------------------------------------------------------------
def test_missing_variables_are_reported_all_at_once(fc):
    done = tool("deploy", env={"PATH": os.environ.get("PATH", "")})
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: cannot deploy (6 problems):",
        "  FC_ENDPOINT: not set, and FC_ACCOUNT_ID and FC_REGION not set to build it "
        "(https://<account>.<region>.fc.aliyuncs.com)",
        "  ALIBABA_CLOUD_ACCESS_KEY_ID: not set (the key that deploys and invokes)",
        "  ALIBABA_CLOUD_ACCESS_KEY_SECRET: not set",
        "  FC_ROLE_ARN: not set, and template.yml's service has no Role: give the ARN of a RAM "
        "role that fc.aliyuncs.com may assume, with the policy make deploy prints",
        # template.yml alone turns no channel on: its webhook URL is left for a secret.
        "  function configuration: channels: no channel is configured (set "
        "DINGTALK_WEBHOOK_URL, SLACK_WEBHOOK_URL, WECOM_WEBHOOK_URL, FEISHU_WEBHOOK_URL, "
        "WEBHOOK_URL or EMAIL_TO), and this is not a dry run",
        "  SHIPPERS: my-project/my-logstore/my-shipper is template.yml's placeholder: set the "
        "shippers to watch (template.yml, the env file or FC_ENV_SHIPPERS)",
        "The function would reject its configuration; --skip-config-check deploys anyway.",
    ]
    assert fc.received == []


def test_every_kind_of_problem_is_reported_together(fc, env, tmp_path):
    env_file = tmp_path / "bad.env"
    env_file.write_text(
        "DINGTALK_WEBHOK_URL=https://oapi.dingtalk.com/robot/send?access_token=typo-token-1\n"
        "this line holds a-secret-value-42 but no equals sign\n"
        "CHECK_INTERVAL=5m\n"
    )
    broken = {
        **env,
        "FC_ENDPOINT": "http://fc.example.com",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "",
        "FC_ROLE_ARN": "my-role",
        "SHIPPER_ALERT_ENV_FILE": str(env_file),
        "FC_ENV_NOT_A_VARIABLE": "x",
    }
    code, out, err = tool_in_process("deploy", env=broken)
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        "error: cannot deploy (6 problems):",
        "  FC_ENDPOINT: http:// is allowed only to a loopback address; use https://",
        "  ALIBABA_CLOUD_ACCESS_KEY_SECRET: not set",
        "  FC_ROLE_ARN: 'my-role' is not a role ARN (acs:ram::<account>:role/<name>)",
        "  SHIPPER_ALERT_ENV_FILE: line 2 is not NAME=value",
        "  SHIPPER_ALERT_ENV_FILE: line 1: DINGTALK_WEBHOK_URL is not a variable shipper-alert "
        "reads; did you mean DINGTALK_WEBHOOK_URL?",
        "  FC_ENV_NOT_A_VARIABLE: NOT_A_VARIABLE is not a variable shipper-alert reads",
    ]
    assert fc.received == []


def test_the_endpoint_can_be_built_from_account_and_region():
    target, problems = fc_tool.read_target(
        {
            "FC_ACCOUNT_ID": "1234567890123456",
            "FC_REGION": "cn-shanghai",
            "ALIBABA_CLOUD_ACCESS_KEY_ID": "id",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "secret",
        }
    )
    assert problems == []
    assert target.endpoint == "https://1234567890123456.cn-shanghai.fc.aliyuncs.com"
    assert target.region == "cn-shanghai"
    target, _ = fc_tool.read_target(
        {
            "FC_ENDPOINT": "1234567890123456.cn-beijing-internal.fc.aliyuncs.com/",
            "ALIBABA_CLOUD_ACCESS_KEY_ID": "id",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "secret",
        }
    )
    assert target.endpoint == "https://1234567890123456.cn-beijing-internal.fc.aliyuncs.com"
    assert target.region == "cn-beijing"
    _, problems = fc_tool.read_target(
        {"FC_ACCOUNT_ID": "1234567890123456", "ALIBABA_CLOUD_ACCESS_KEY_ID": "id"}
    )
    assert problems[0].startswith("FC_ENDPOINT: not set, and FC_REGION not set to build it")


def test_deploy_refuses_an_environment_the_function_would_reject(fc, env):
    code, out, err = tool_in_process(
        "deploy", env={**env, "FC_ENV_CHECK_INTERVAL": "banana", "FC_ENV_FAIL_THRESHOLD": "0"}
    )
    assert code == 2
    assert out == ""
    assert "  function configuration: CHECK_INTERVAL: " in err
    assert "  function configuration: FAIL_THRESHOLD: 0 is outside 1..1000000000" in err
    assert err.endswith(
        "The function would reject its configuration; --skip-config-check deploys anyway.\n"
    )
    assert fc.received == []


def test_deploy_refuses_a_timer_that_is_not_check_interval(fc, env):
    code, _, err = tool_in_process("deploy", env={**env, "FC_ENV_CHECK_INTERVAL": "10m"})
    assert code == 2
    assert (
        "  timer every-5m: fires every 5m but CHECK_INTERVAL is 10m: each check covers one "
        "CHECK_INTERVAL, so alerts would repeat or windows go unchecked; make them equal" in err
    )
    assert fc.received == []


def test_deploy_refuses_a_misspelt_variable_with_a_suggestion(fc, env):
    code, _, err = tool_in_process("deploy", env={**env, "FC_ENV_FAIL_TRESHOLD": "3"})
    assert code == 2
    assert (
        "  FC_ENV_FAIL_TRESHOLD: FAIL_TRESHOLD is not a variable shipper-alert reads; "
        "did you mean FAIL_THRESHOLD?" in err
    )
    assert fc.received == []


# -- credentials and FC errors ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "wrong-secret-value-1234"},
            "HTTP 403 SignatureNotMatch: The request signature we calculated does not match the "
            "signature you provided. Check your access key and signing method (request id ",
        ),
        (
            {"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI-nobody"},
            "HTTP 403 InvalidAccessKeyID: invalid access key ID 'LTAI-nobody'",
        ),
        (
            {"ALIBABA_CLOUD_SECURITY_TOKEN": "expired-token-value-5678"},
            "HTTP 403 InvalidSecurityToken: the security token is missing or invalid",
        ),
    ],
)
def test_bad_credentials_stop_deploy_with_a_clear_error(fc, env, change, expected):
    done = tool("deploy", env={**env, **change})
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: service shipper-alert: {expected}")
    hint = {
        "SignatureNotMatch": "check ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "InvalidAccessKeyID": "check ALIBABA_CLOUD_ACCESS_KEY_ID",
        "InvalidSecurityToken": "check ALIBABA_CLOUD_SECURITY_TOKEN",
    }
    assert any(h in done.stderr for code, h in hint.items() if code in expected)
    for secret in change.values():
        if "LTAI" not in secret:
            assert secret not in done.stdout + done.stderr
    assert fc.services == {}
    assert [e.status for e in fc.exchanges] == [403]


# -- invoke ----------------------------------------------------------------------------------
def test_invoke_prints_the_result_and_the_logs(fc, env, sim):
    deployed(env)
    done = tool("invoke", env=env)

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    head, rest = done.stdout.split("--- result:\n", 1)
    result_text, logs = rest.split("--- logs (the last 4 KB):\n", 1)
    assert 'with {"dryRun": true}' in head
    result = json.loads(result_text)
    assert result["ok"] is True
    assert result["dryRun"] is True
    by_name = {s["shipper"]: s for s in result["shippers"]}
    assert set(by_name) == {"oss-archive", "odps-sync", "oss-backup", "oss-stuck"}
    assert by_name["oss-archive"]["breached"] is True
    assert by_name["oss-archive"]["failedTaskIds"]
    assert result["messages"][0]["channel"] == "dingtalk"
    (invocation,) = fc.invocations
    assert logs.startswith(f"FC Invoke Start RequestId: {invocation.request_id}\n")
    assert f"{invocation.request_id} [INFO] checking 1 shipper spec(s) for window" in logs
    assert logs.rstrip().endswith(f"FC Invoke End RequestId: {invocation.request_id}")
    # The function read SLS with the role's STS keys from its context, as on FC.
    tokens = {r.headers.get("x-acs-security-token") for r in sim.received}
    assert tokens == {ROLE_STS.security_token}


def test_invoke_sends_the_event_given(fc, env):
    deployed(env)
    event = {"dryRun": True, "shippers": ["shop-prod/app-log/oss-backup"]}
    done = tool("invoke", env={**env, "EVENT": json.dumps(event)})
    assert done.returncode == 0, done.stderr
    assert json.loads(fc.invocations[0].event) == event
    result = json.loads(done.stdout.split("--- result:\n")[1].split("--- logs")[0])
    assert [s["shipper"] for s in result["shippers"]] == ["oss-backup"]


def test_invoke_fails_with_the_functions_error_message(fc, env):
    done = tool("deploy", "--skip-config-check", env={**env, "FC_ENV_CHECK_INTERVAL": "banana"})
    assert done.returncode == 0, done.stderr
    done = tool("invoke", env=env)

    assert done.returncode == 1
    assert done.stderr.startswith(
        "error: the function failed (UnhandledInvocationError): ConfigError: invalid "
        "configuration: CHECK_INTERVAL: "
    )
    assert "--- shipper-alert/check failed (UnhandledInvocationError)" in done.stdout
    error = json.loads(done.stdout.split("--- error:\n")[1].split("--- logs")[0])
    assert error["errorType"] == "ConfigError"
    assert error["stackTrace"]
    logs = done.stdout.split("--- logs (the last 4 KB):\n")[1]
    assert "[ERROR] ConfigError: invalid configuration" in logs
    assert "Traceback (most recent call last):" in logs


def test_invoke_exits_1_when_the_result_says_not_ok(fc, env):
    deployed(env)
    event = json.dumps({"dryRun": True, "shippers": ["shop-prod/app-log/no-such-shipper"]})
    done = tool("invoke", env={**env, "EVENT": event})
    assert done.returncode == 1
    assert '"ok": false' in done.stdout
    assert done.stderr.startswith('error: the function ran, but its result says "ok": false')


def test_invoke_before_deploy_says_so(fc, env):
    done = tool("invoke", env=env)
    assert done.returncode == 1
    assert done.stderr.startswith(
        "error: invoke shipper-alert/check: HTTP 404 ServiceNotFound: service 'shipper-alert' "
        "does not exist"
    )
    assert done.stderr.rstrip().endswith("run make deploy first")


def test_invoke_reports_a_body_that_is_not_fc_json(fc, env):
    deployed(env)
    fc.fail_next(Reply(502, "<html>502 Bad Gateway</html>"))
    done = tool("invoke", env=env)
    assert done.returncode == 1
    assert "answered with a body that is not FC's JSON" in done.stderr
    assert "502 Bad Gateway" in done.stderr


def test_invoke_rejects_an_event_that_is_not_json(fc, env):
    code, out, err = tool_in_process("invoke", env={**env, "EVENT": "{dryRun: true}"})
    assert (code, out) == (2, "")
    assert err.startswith("error: cannot invoke (1 problem):\n  EVENT: not JSON (")
    assert fc.received == []


# -- the deployed timer --------------------------------------------------------------------
def test_the_deployed_timer_check_delivers_to_dingtalk(fc, env, dingtalk, sim):
    """What FC runs every 5 minutes: a real check, signed into the DingTalk stand-in."""
    no_email = {k: v for k, v in env.items() if not k.startswith("FC_ENV_")}
    # The simulated shipper has failed for hours: a stateless timer check takes that for an
    # episode already notified and holds it; a reminder every window sends each one.
    deployed({**no_email, "FC_ENV_REMIND_INTERVAL": "5m"})
    invocation = fc.invoke("shipper-alert", "check", fc.timer_event("every-5m"), asynchronous=True)
    assert invocation.error_type is None, invocation.logs.decode()
    result = json.loads(invocation.body)
    assert result["ok"] is True
    assert result["dryRun"] is False
    assert result["notifications"] == [
        {"channel": "dingtalk", "delivered": True, "attempts": 1, "error": None, "partial": False}
    ]
    (message,) = dingtalk.messages()
    assert "oss-archive" in message["markdown"]["text"]
    assert DINGTALK_TOKEN not in invocation.logs.decode()
    assert DINGTALK_SECRET not in invocation.logs.decode()
