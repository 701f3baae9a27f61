from types import SimpleNamespace

import pytest

import factories
from shipper_alert.config import Channels, Rules, inspect_settings, load_settings
from shipper_alert.errors import ConfigError
from shipper_alert.models import ShipperRef

BASE = {
    "SLS_ENDPOINT": "cn-hangzhou.log.aliyuncs.com",
    "SHIPPERS": "proj-a/logs/oss-ship",
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "AKID-0123",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "AK-SECRET-VALUE",
    "DRY_RUN": "true",
}


def problems(env, **kwargs):
    return list(inspect_settings(env, **kwargs).problems)


def test_defaults_follow_the_contract():
    settings = load_settings(BASE)
    assert settings.rules == Rules(
        check_interval=300,
        settle_delay=60,
        lookback=21600,
        fail_threshold=1,
        fail_ratio_threshold=None,
        fail_grace=0,
        running_timeout=None,
        stall_timeout=None,
        remind_interval=3600,
        notify_resolved=True,
    )
    assert settings.auto_retry is False
    assert settings.timezone_name == "UTC"
    assert settings.log_level == "INFO"
    assert settings.shippers == (ShipperRef("proj-a", "logs", "oss-ship"),)
    assert str(settings.endpoint) == "https://cn-hangzhou.log.aliyuncs.com"


def test_every_value_form_is_read():
    env = dict(
        BASE,
        CHECK_INTERVAL="10m",
        SETTLE_DELAY="90",
        LOOKBACK="1d",
        FAIL_THRESHOLD="3",
        FAIL_RATIO_THRESHOLD="0.5",
        FAIL_GRACE="2h",
        RUNNING_TIMEOUT="3h",
        STALL_TIMEOUT="30m",
        REMIND_INTERVAL="2h",
        NOTIFY_RESOLVED="off",
        AUTO_RETRY="yes",
        ALERT_TIMEZONE="Asia/Shanghai",
        LOG_LEVEL="debug",
        SHIPPERS="proj-a/logs/oss-ship, proj-a/*/*\nproj-b/app/*  proj-a/logs/oss-ship",
    )
    settings = load_settings(env)
    assert settings.rules == Rules(600, 90, 86400, 3, 0.5, 7200, 10800, 1800, 7200, False)
    assert settings.auto_retry is True
    assert settings.timezone_name == "Asia/Shanghai"
    assert settings.log_level == "DEBUG"
    assert settings.shippers == (
        ShipperRef("proj-a", "logs", "oss-ship"),
        ShipperRef("proj-a", "*", "*"),
        ShipperRef("proj-b", "app", "*"),
    )


def test_the_three_single_shipper_variables():
    env = {k: v for k, v in BASE.items() if k != "SHIPPERS"}
    env.update(SLS_PROJECT="proj-a", SLS_LOGSTORE="logs", SLS_SHIPPER="oss-ship")
    assert load_settings(env).shippers == (ShipperRef("proj-a", "logs", "oss-ship"),)


def test_empty_string_counts_as_unset():
    env = dict(BASE, CHECK_INTERVAL="", FAIL_THRESHOLD="  ", SLS_PROJECT="")
    assert load_settings(env).rules.check_interval == 300


def test_all_problems_are_reported_together_each_naming_its_variable():
    env = {
        "SHIPPERS": "Bad_Project/l/s, just-two/parts",
        "CHECK_INTERVAL": "5 minutes",
        "LOOKBACK": "48h",
        "FAIL_THRESHOLD": "0",
        "FAIL_RATIO_THRESHOLD": "1.5",
        "NOTIFY_RESOLVED": "maybe",
        "ALERT_TIMEZONE": "Mars/Olympus",
        "LOG_LEVEL": "loud",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "AKID",
        "SLACK_WEBHOOK_URL": "http://hooks.slack.com/services/T/B/SECRETPATH",
    }
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert caught.value.problems == [
        "SLS_ENDPOINT: not set, and there is no FC context region to default from",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET: not set, but ALIBABA_CLOUD_ACCESS_KEY_ID is: both are needed",
        "SHIPPERS: 'Bad_Project/l/s': project 'Bad_Project' is not a valid SLS project name "
        "(3-63 lower-case letters, digits and hyphens, starting and ending with a letter or digit)",
        "SHIPPERS: 'just-two/parts' is not project/logstore/shipper",
        "CHECK_INTERVAL: '5 minutes' is not a duration (use 90, 90s, 5m, 1h30m or 2d)",
        "FAIL_THRESHOLD: 0 is outside 1..1000000000",
        "FAIL_RATIO_THRESHOLD: '1.5' must be greater than 0 and at most 1",
        "NOTIFY_RESOLVED: 'maybe' is not a boolean (use true/false, 1/0, yes/no, on/off)",
        "LOOKBACK: 2d exceeds 47h (the API serves 48 hours)",
        "ALERT_TIMEZONE: 'Mars/Olympus' is not a known IANA time zone (e.g. Asia/Shanghai)",
        "LOG_LEVEL: 'loud' is not one of debug, info, warning, error, critical",
        "SLACK_WEBHOOK_URL: must use https:// (http:// is allowed only to a loopback address)",
    ]
    assert "SECRETPATH" not in str(caught.value)


def test_lookback_shorter_than_the_interval_or_grace_is_refused():
    env = dict(BASE, LOOKBACK="4m", FAIL_GRACE="1h", RUNNING_TIMEOUT="10m")
    assert problems(env) == [
        "LOOKBACK: 4m is shorter than CHECK_INTERVAL (5m): the previous window could not be judged",
        "FAIL_GRACE: 1h exceeds LOOKBACK (4m): such tasks would be out of the fetched range when due",
        "RUNNING_TIMEOUT: 10m exceeds LOOKBACK (4m): such tasks would be out of the fetched range when due",
    ]


def test_shippers_and_single_variables_together_are_ambiguous():
    env = dict(BASE, SLS_PROJECT="proj-a")
    assert problems(env) == [
        "SHIPPERS: set either SHIPPERS or SLS_PROJECT, not both (SHIPPERS replaces them)"
    ]


def test_incomplete_single_shipper_names_the_missing_variables():
    env = {k: v for k, v in BASE.items() if k != "SHIPPERS"}
    env["SLS_PROJECT"] = "proj-a"
    assert problems(env) == [
        "SLS_LOGSTORE: not set, but SLS_PROJECT is: all three are needed",
        "SLS_SHIPPER: not set, but SLS_PROJECT is: all three are needed",
    ]


def test_no_shipper_at_all():
    env = {k: v for k, v in BASE.items() if k != "SHIPPERS"}
    assert problems(env) == [
        "SHIPPERS: no shipper to watch: set SHIPPERS or SLS_PROJECT, SLS_LOGSTORE and SLS_SHIPPER"
        " (or EXPORTS for export jobs)"
    ]


def test_a_channel_is_required_unless_dry_run():
    env = dict(BASE, DRY_RUN="false")
    assert problems(env) == [
        "channels: no channel is configured (set DINGTALK_WEBHOOK_URL, SLACK_WEBHOOK_URL, "
        "WECOM_WEBHOOK_URL, FEISHU_WEBHOOK_URL, WEBHOOK_URL or EMAIL_TO), and this is not a dry run"
    ]
    assert problems(env, dry_run=True) == []
    assert problems(dict(BASE), dry_run=False)  # the event's dryRun overrides DRY_RUN


def test_fc_context_supplies_region_and_credentials():
    env = {"SHIPPERS": "proj-a/logs/oss", "DRY_RUN": "1"}
    context = SimpleNamespace(
        region="cn-shanghai",
        credentials=SimpleNamespace(
            access_key_id="STS.id", access_key_secret="sts-secret", security_token="sts-token"
        ),
    )
    settings = load_settings(env, context)
    assert str(settings.endpoint) == "https://cn-shanghai-intranet.log.aliyuncs.com"
    assert settings.credentials.access_key_id == "STS.id"
    assert settings.credentials.access_key_secret.reveal() == "sts-secret"
    assert settings.credentials.security_token.reveal() == "sts-token"


def test_context_credentials_win_over_the_environment():
    context = SimpleNamespace(
        region="cn-shanghai",
        credentials=SimpleNamespace(
            access_key_id="STS.id", access_key_secret="x", security_token="t"
        ),
    )
    assert load_settings(BASE, context).credentials.access_key_id == "STS.id"


def test_python312_context_without_credentials_falls_back_to_the_environment():
    context = SimpleNamespace(region="cn-shanghai")
    env = dict(BASE, ALIBABA_CLOUD_SECURITY_TOKEN="env-token")
    credentials = load_settings(env, context).credentials
    assert credentials.access_key_id == "AKID-0123"
    assert credentials.security_token.reveal() == "env-token"


def test_missing_credentials():
    env = {k: v for k, v in BASE.items() if not k.startswith("ALIBABA")}
    assert problems(env) == [
        "ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET: not set, and the FC context "
        "carries no credentials (give the function a role, or set both variables)"
    ]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.com/x", "must be an https:// URL"),
        ("https://", "must be an https:// URL"),
        (
            "https://u:p@example.com/x",
            "must not carry user:password@ (put credentials in the query as the service shows)",
        ),
        (
            "http://example.com/x",
            "must use https:// (http:// is allowed only to a loopback address)",
        ),
        ("https://example.com:99999/x", "is not a valid URL"),
    ],
)
def test_webhook_url_rules(url, problem):
    assert problems(dict(BASE, WEBHOOK_URL=url)) == [f"WEBHOOK_URL: {problem}"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]:9/hook",
        "https://example.com/h",
    ],
)
def test_loopback_http_and_https_webhooks_are_accepted(url):
    settings = load_settings(dict(BASE, WEBHOOK_URL=url))
    assert settings.channels.enabled() == ["webhook"]
    assert settings.channels.webhook.url.reveal() == url


def test_channel_variables_without_their_channel_are_reported():
    env = dict(BASE, DINGTALK_SECRET="SECabc", SMTP_HOST="smtp.example.com")
    assert problems(env) == [
        "DINGTALK_SECRET: is set but DINGTALK_WEBHOOK_URL is not, so the dingtalk channel is off",
        "SMTP_HOST: is set but EMAIL_TO is not, so the email channel is off",
    ]


def test_dingtalk_settings_and_secret_check():
    env = dict(
        BASE,
        DINGTALK_WEBHOOK_URL="https://oapi.dingtalk.com/robot/send?access_token=tok",
        DINGTALK_SECRET="not-a-sec-value",
        DINGTALK_AT_MOBILES="13800000000, +852-12345678",
        DINGTALK_AT_ALL="true",
    )
    found = problems(env)
    assert found == [
        "DINGTALK_SECRET: does not start with 'SEC' as signing secrets do (copy the secret shown "
        "under the robot's security settings, not its token)"
    ]
    assert "not-a-sec-value" not in found[0]
    env["DINGTALK_SECRET"] = "SEC0123"
    dingtalk = load_settings(env).channels.dingtalk
    assert dingtalk.at_mobiles == ("13800000000", "+852-12345678")
    assert dingtalk.at_all is True
    assert dingtalk.secret.reveal() == "SEC0123"


def test_email_defaults_and_rules():
    env = dict(
        BASE,
        EMAIL_TO="ops@example.com, oncall@example.com",
        EMAIL_FROM="Alerts <alerts@example.com>",
        SMTP_HOST="smtp.example.com",
    )
    email = load_settings(env).channels.email
    assert email.to == ("ops@example.com", "oncall@example.com")
    assert (email.transport, email.smtp_port, email.smtp_security) == ("smtp", 465, "ssl")
    assert load_settings(dict(env, SMTP_PORT="587")).channels.email.smtp_security == "starttls"
    assert problems(dict(env, SMTP_SECURITY="none")) == [
        "SMTP_SECURITY: none is allowed only to a loopback SMTP host; use ssl or starttls"
    ]
    assert load_settings(dict(env, SMTP_HOST="127.0.0.1", SMTP_SECURITY="none")).channels.email
    assert problems(dict(env, SMTP_USERNAME="me")) == [
        "SMTP_PASSWORD: not set: SMTP_USERNAME and SMTP_PASSWORD go together"
    ]
    assert problems(dict(env, EMAIL_TRANSPORT="ses")) == [
        "SES_REGION: not set, but EMAIL_TRANSPORT is ses"
    ]
    assert problems(dict(env, EMAIL_TO="nobody", EMAIL_FROM="")) == [
        "EMAIL_TO: 'nobody' is not an email address",
        "EMAIL_FROM: not set, but EMAIL_TO is: email needs a sender address",
    ]


def test_validate_shows_values_with_secrets_masked():
    env = dict(
        BASE,
        SLACK_WEBHOOK_URL="https://hooks.slack.com/services/T1/B1/SECRETPART",
        SMTP_PASSWORD="pw-123456",
        EMAIL_TO="ops@example.com",
        EMAIL_FROM="a@example.com",
        SMTP_HOST="smtp.example.com",
        SMTP_USERNAME="a@example.com",
    )
    inspection = inspect_settings(env)
    shown = {s.variable: (s.value, s.source) for s in inspection.shown}
    assert shown["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] == ("***", "env")
    assert shown["ALIBABA_CLOUD_ACCESS_KEY_ID"] == ("AKID***", "env")
    assert shown["SMTP_PASSWORD"] == ("***", "env")
    assert shown["SLACK_WEBHOOK_URL"] == ("https://hooks.slack.com/services/***", "env")
    assert shown["CHECK_INTERVAL"] == ("5m", "default")
    assert shown["SMTP_SECURITY"] == ("ssl", "default")
    rendered = repr(inspection)
    for secret in ("AKID-0123", "AK-SECRET-VALUE", "SECRETPART", "pw-123456"):
        assert secret not in rendered


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "AKID\u00e9-0123"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "AK-SECRET\nVALUE"),
        ("ALIBABA_CLOUD_SECURITY_TOKEN", "CAIS\u4e2dtoken"),
        ("ALIBABA_CLOUD_SECURITY_TOKEN", "CAIS token"),
    ],
)
def test_credentials_an_http_header_cannot_carry_are_refused_without_the_value(variable, value):
    found = problems({**BASE, variable: value})
    assert found == [
        f"{variable}: holds a character an HTTP header cannot carry (only printable ASCII, no"
        " spaces or line breaks: was it pasted with one?)"
    ]
    assert all(value not in p for p in found)


@pytest.mark.parametrize("segment", ["-l", "..", ".hidden", "a..b", "x-"])
def test_shipper_segments_sls_can_never_hold_are_refused(segment):
    found = problems({**BASE, "SHIPPERS": f"proj-a/logs/{segment}"})
    assert len(found) == 1
    assert found[0].startswith(
        f"SHIPPERS: 'proj-a/logs/{segment}': shipper {segment!r} is not a valid SLS shipper"
        " name (2-128 letters, digits, hyphens, underscores and single inner dots"
    )


@pytest.mark.parametrize("logstore", ["-l", "..", "Logs", "l"])
def test_logstore_segments_follow_the_sls_rule(logstore):
    found = problems({**BASE, "SHIPPERS": f"proj-a/{logstore}/ship"})
    assert len(found) == 1
    assert f"logstore {logstore!r} is not a valid SLS logstore name" in found[0]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (
            "47h",
            "SETTLE_DELAY: 1d23h plus CHECK_INTERVAL (5m) exceeds 47h: every window would start"
            " before the 48 hours the API serves",
        ),
        (
            "100000000000000000000",
            "SETTLE_DELAY: '100000000000000000000' is longer than the maximum 366d",
        ),
    ],
)
def test_a_settle_delay_that_can_never_work_is_refused_before_any_arithmetic(value, problem):
    assert problems({**BASE, "SETTLE_DELAY": value}) == [problem]


def test_an_endpoint_with_a_password_is_refused_without_printing_it():
    inspection = inspect_settings({**BASE, "SLS_ENDPOINT": "https://admin:hunter2-pw@h.example"})
    assert list(inspection.problems) == [
        "SLS_ENDPOINT: SLS endpoint must not contain user info (user:password@)"
    ]
    (shown,) = [s for s in inspection.shown if s.variable == "SLS_ENDPOINT"]
    assert shown.value == "https://***@h.example"
    assert "hunter2" not in repr(inspection.shown) + repr(inspection.problems)


def test_loading_the_configuration_imports_no_http_or_template_library():
    code = (
        "import shipper_alert.config as c\n"
        "c.inspect_settings({'WEBHOOK_URL': 'https://example.com/h', 'EMAIL_TO': 'a@b.example'})"
    )
    libraries = ("requests", "urllib3", "jinja2", "boto3")
    assert factories.modules_loaded_by(code, libraries) == []


def test_a_channel_outside_the_registry_is_refused():
    with pytest.raises(TypeError, match="unknown channel"):
        Channels(pager=object())
    assert Channels().enabled() == []


def test_check_workers_defaults_to_10_and_is_validated():
    assert load_settings(BASE).workers == 10
    assert load_settings({**BASE, "CHECK_WORKERS": "32"}).workers == 32
    for bad, problem in (("0", "0 is outside 1..64"), ("many", "'many' is not a whole number")):
        with pytest.raises(ConfigError) as caught:
            load_settings({**BASE, "CHECK_WORKERS": bad})
        assert caught.value.problems == [f"CHECK_WORKERS: {problem}"]


def test_remind_interval_zero_is_read_as_every_window():
    assert load_settings(dict(BASE, REMIND_INTERVAL="0")).rules.remind_interval == 0
    assert load_settings(dict(BASE, REMIND_INTERVAL="0s")).rules.remind_interval == 0


def test_a_negative_remind_interval_is_an_error_naming_it():
    found = problems(dict(BASE, REMIND_INTERVAL="-5m"))
    assert len(found) == 1
    assert "REMIND_INTERVAL" in str(found[0])


def test_the_reminder_state_lives_in_the_temp_directory_tempfile_would_choose(monkeypatch):
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    assert str(load_settings(BASE).state_dir) == "/tmp"
    monkeypatch.setenv("TMP", "/var/tmp-c")
    monkeypatch.setenv("TEMP", "/var/tmp-b")
    assert str(load_settings(BASE).state_dir) == "/var/tmp-b"  # TEMP before TMP
    monkeypatch.setenv("TMPDIR", "/var/tmp-a")
    assert str(load_settings(BASE).state_dir) == "/var/tmp-a"  # TMPDIR first, as tempfile
