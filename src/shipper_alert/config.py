"""Configuration: every environment variable, read and checked once, into frozen settings.

The variables and their meaning are fixed by the contract (../shared/contract.md,
"Configuration: environment variables"). `load_settings` reads them all before any network
call and raises one `ConfigError` listing every problem, each naming its variable and never
echoing a secret's value. Nothing else in the package reads `os.environ`.
"""

from __future__ import annotations

import ipaddress
import re
import tempfile
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timezone, tzinfo
from pathlib import Path
from typing import Any

from shipper_alert.durations import format_duration, parse_duration
from shipper_alert.errors import ConfigError
from shipper_alert.models import ShipperRef
from shipper_alert.redact import Secret, mask_userinfo, redact_url
from shipper_alert.sls.credentials import Credentials
from shipper_alert.sls.endpoint import Endpoint
from shipper_alert.validation import MAX_DURATION, credential_problem

# What to watch
SLS_ENDPOINT = "SLS_ENDPOINT"
SLS_PROJECT = "SLS_PROJECT"
SLS_LOGSTORE = "SLS_LOGSTORE"
SLS_SHIPPER = "SLS_SHIPPER"
SHIPPERS = "SHIPPERS"
ACCESS_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ACCESS_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
SECURITY_TOKEN = "ALIBABA_CLOUD_SECURITY_TOKEN"
# When and what to alert
CHECK_INTERVAL = "CHECK_INTERVAL"
SETTLE_DELAY = "SETTLE_DELAY"
LOOKBACK = "LOOKBACK"
FAIL_THRESHOLD = "FAIL_THRESHOLD"
FAIL_RATIO_THRESHOLD = "FAIL_RATIO_THRESHOLD"
FAIL_GRACE = "FAIL_GRACE"
RUNNING_TIMEOUT = "RUNNING_TIMEOUT"
STALL_TIMEOUT = "STALL_TIMEOUT"
REMIND_INTERVAL = "REMIND_INTERVAL"
NOTIFY_RESOLVED = "NOTIFY_RESOLVED"
AUTO_RETRY = "AUTO_RETRY"
ALERT_TIMEZONE = "ALERT_TIMEZONE"
DRY_RUN = "DRY_RUN"
TEMPLATE_DIR = "TEMPLATE_DIR"
LOG_LEVEL = "LOG_LEVEL"
# Where to send
DINGTALK_WEBHOOK_URL = "DINGTALK_WEBHOOK_URL"
DINGTALK_SECRET = "DINGTALK_SECRET"
DINGTALK_AT_MOBILES = "DINGTALK_AT_MOBILES"
DINGTALK_AT_ALL = "DINGTALK_AT_ALL"
SLACK_WEBHOOK_URL = "SLACK_WEBHOOK_URL"
WECOM_WEBHOOK_URL = "WECOM_WEBHOOK_URL"
WECOM_MENTIONED_MOBILES = "WECOM_MENTIONED_MOBILES"
FEISHU_WEBHOOK_URL = "FEISHU_WEBHOOK_URL"
FEISHU_SECRET = "FEISHU_SECRET"
WEBHOOK_URL = "WEBHOOK_URL"
EMAIL_TO = "EMAIL_TO"
EMAIL_FROM = "EMAIL_FROM"
SMTP_HOST = "SMTP_HOST"
SMTP_PORT = "SMTP_PORT"
SMTP_SECURITY = "SMTP_SECURITY"
SMTP_USERNAME = "SMTP_USERNAME"
SMTP_PASSWORD = "SMTP_PASSWORD"
EMAIL_TRANSPORT = "EMAIL_TRANSPORT"
SES_REGION = "SES_REGION"

# Each channel's variables; the first one switches the channel on.
CHANNEL_VARIABLES: dict[str, tuple[str, ...]] = {
    "dingtalk": (DINGTALK_WEBHOOK_URL, DINGTALK_SECRET, DINGTALK_AT_MOBILES, DINGTALK_AT_ALL),
    "slack": (SLACK_WEBHOOK_URL,),
    "wecom": (WECOM_WEBHOOK_URL, WECOM_MENTIONED_MOBILES),
    "feishu": (FEISHU_WEBHOOK_URL, FEISHU_SECRET),
    "webhook": (WEBHOOK_URL,),
    "email": (
        EMAIL_TO,
        EMAIL_FROM,
        SMTP_HOST,
        SMTP_PORT,
        SMTP_SECURITY,
        SMTP_USERNAME,
        SMTP_PASSWORD,
        EMAIL_TRANSPORT,
        SES_REGION,
    ),
}
SECRET_VARIABLES = frozenset(
    {
        ACCESS_KEY_SECRET,
        SECURITY_TOKEN,
        DINGTALK_WEBHOOK_URL,
        DINGTALK_SECRET,
        SLACK_WEBHOOK_URL,
        WECOM_WEBHOOK_URL,
        FEISHU_WEBHOOK_URL,
        FEISHU_SECRET,
        WEBHOOK_URL,
        SMTP_PASSWORD,
    }
)

MAX_LOOKBACK = 47 * 3600  # GetShipperStatus serves 48 hours (sls-api.md §2.1)
MIN_CHECK_INTERVAL = 60  # FC timers fire at most once a minute (fc-runtime.md §3.3)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SMTP_SECURITIES = ("ssl", "starttls", "none")
EMAIL_TRANSPORTS = ("smtp", "ses")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_LIST_SEPARATORS = re.compile(r"[,\s]+")
_EMAIL_ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")


@dataclass(frozen=True)
class Rules:
    """What the evaluation needs: the timer's period and the alerting thresholds."""

    check_interval: int = 300
    settle_delay: int = 60
    lookback: int = 6 * 3600
    fail_threshold: int = 1
    fail_ratio_threshold: float | None = None
    fail_grace: int = 0
    running_timeout: int | None = None
    stall_timeout: int | None = None
    remind_interval: int = 3600
    notify_resolved: bool = True


@dataclass(frozen=True)
class DingTalkSettings:
    webhook_url: Secret
    secret: Secret | None
    at_mobiles: tuple[str, ...]
    at_all: bool


@dataclass(frozen=True)
class SlackSettings:
    webhook_url: Secret


@dataclass(frozen=True)
class WeComSettings:
    webhook_url: Secret
    mentioned_mobiles: tuple[str, ...]


@dataclass(frozen=True)
class FeishuSettings:
    webhook_url: Secret
    secret: Secret | None


@dataclass(frozen=True)
class WebhookSettings:
    url: Secret


@dataclass(frozen=True)
class EmailSettings:
    to: tuple[str, ...]
    sender: str
    transport: str
    smtp_host: str | None
    smtp_port: int
    smtp_security: str
    smtp_username: str | None
    smtp_password: Secret | None
    ses_region: str | None


@dataclass(frozen=True)
class Channels:
    dingtalk: DingTalkSettings | None = None
    slack: SlackSettings | None = None
    wecom: WeComSettings | None = None
    feishu: FeishuSettings | None = None
    webhook: WebhookSettings | None = None
    email: EmailSettings | None = None

    def enabled(self) -> list[str]:
        return [name for name in CHANNEL_VARIABLES if getattr(self, name) is not None]


@dataclass(frozen=True)
class Settings:
    endpoint: Endpoint
    credentials: Credentials
    shippers: tuple[ShipperRef, ...]
    rules: Rules
    channels: Channels
    auto_retry: bool = False
    timezone_name: str = "UTC"
    timezone: tzinfo = timezone.utc
    dry_run: bool = False
    template_dir: Path | None = None
    log_level: str = "INFO"
    state_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()))


@dataclass(frozen=True)
class Shown:
    """One line of the effective configuration, as `validate` prints it."""

    variable: str
    value: str
    source: str  # "env", "default", "context", "unset"


class _Reader:
    """Reads variables, collecting every problem instead of stopping at the first."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []
        self.shown: dict[str, Shown] = {}

    def raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    def problem(self, name: str, text: str) -> None:
        self.problems.append(f"{name}: {text}")

    def show(self, name: str, value: str, source: str = "env") -> None:
        self.shown[name] = Shown(name, value, source)

    def _read(self, name: str, default: Any, convert, display=str) -> Any:
        text = self.raw(name)
        if text is None:
            self.show(name, "(unset)" if default is None else display(default), "default")
            return default
        try:
            value = convert(text)
        except ValueError as exc:
            shown = "***" if name in SECRET_VARIABLES else text
            self.problem(name, str(exc))
            self.show(name, shown, "invalid")
            return default
        self.show(name, display(value) if value is not None else "(unset)")
        return value

    def duration(self, name: str, default: int | None, minimum: int = 0) -> int | None:
        def convert(text: str) -> int:
            seconds = parse_duration(text)
            if seconds > MAX_DURATION:  # before any time arithmetic (10**20 s overflows)
                raise ValueError(
                    f"{text!r} is longer than the maximum {format_duration(MAX_DURATION)}"
                )
            if seconds < minimum:
                raise ValueError(f"{text!r} is shorter than the minimum {format_duration(minimum)}")
            return seconds

        return self._read(name, default, convert, format_duration)

    def boolean(self, name: str, default: bool) -> bool:
        def convert(text: str) -> bool:
            lowered = text.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError(f"{text!r} is not a boolean (use true/false, 1/0, yes/no, on/off)")

        return self._read(name, default, convert, lambda v: "true" if v else "false")

    def integer(self, name: str, default: int | None, minimum: int, maximum: int) -> int | None:
        def convert(text: str) -> int:
            if not re.fullmatch(r"\d+", text):
                raise ValueError(f"{text!r} is not a whole number")
            number = int(text)
            if not minimum <= number <= maximum:
                raise ValueError(f"{number} is outside {minimum}..{maximum}")
            return number

        return self._read(name, default, convert)

    def text(self, name: str, default: str | None = None) -> str | None:
        return self._read(name, default, lambda t: t)

    def choice(self, name: str, default: str | None, choices: tuple[str, ...]) -> str | None:
        def convert(text: str) -> str:
            lowered = text.lower()
            if lowered not in choices:
                raise ValueError(f"{text!r} is not one of {', '.join(choices)}")
            return lowered

        return self._read(name, default, convert)

    def items(self, name: str) -> tuple[str, ...]:
        def convert(text: str) -> tuple[str, ...]:
            return tuple(item for item in _LIST_SEPARATORS.split(text) if item)

        return self._read(name, (), convert, lambda v: ", ".join(v) if v else "(unset)")

    def secret(self, name: str) -> Secret | None:
        text = self.raw(name)
        if text is None:
            self.show(name, "(unset)", "default")
            return None
        self.show(name, "***")
        return Secret(text)

    def url(self, name: str) -> Secret | None:
        """A webhook URL: https, or http to a loopback host; shown redacted."""
        text = self.raw(name)
        if text is None:
            self.show(name, "(unset)", "default")
            return None
        secret = Secret(text)
        self.show(name, redact_url(text))
        problem = webhook_url_problem(text)
        if problem:
            self.problem(name, problem)
            return None
        return secret


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def webhook_url_problem(url: str) -> str | None:
    """Why `url` cannot be a webhook URL, or None. Never includes the URL itself."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("https", "http") or not host:
        return "must be an https:// URL"
    if parts.username or parts.password:
        return "must not carry user:password@ (put credentials in the query as the service shows)"
    if parts.scheme == "http" and not is_loopback_host(host):
        return "must use https:// (http:// is allowed only to a loopback address)"
    return None


def _parse_shipper(text: str) -> tuple[ShipperRef | None, str | None]:
    try:
        return ShipperRef.parse(text), None
    except ValueError as exc:
        return None, str(exc)


def _read_shippers(reader: _Reader) -> tuple[ShipperRef, ...]:
    listed = reader.items(SHIPPERS)
    single = {name: reader.text(name) for name in (SLS_PROJECT, SLS_LOGSTORE, SLS_SHIPPER)}
    given = [name for name, value in single.items() if value]
    if listed and given:
        reader.problem(
            SHIPPERS,
            f"set either SHIPPERS or {', '.join(given)}, not both (SHIPPERS replaces them)",
        )
        return ()
    if listed:
        refs: list[ShipperRef] = []
        for item in listed:
            ref, problem = _parse_shipper(item)
            if problem:
                reader.problem(SHIPPERS, problem)
            elif ref not in refs:
                refs.append(ref)
        return tuple(refs)
    if not given:
        reader.problem(
            SHIPPERS,
            "no shipper to watch: set SHIPPERS or SLS_PROJECT, SLS_LOGSTORE and SLS_SHIPPER",
        )
        return ()
    missing = [name for name, value in single.items() if not value]
    if missing:
        for name in missing:
            reader.problem(name, f"not set, but {', '.join(given)} is: all three are needed")
        return ()
    ref, problem = _parse_shipper(
        f"{single[SLS_PROJECT]}/{single[SLS_LOGSTORE]}/{single[SLS_SHIPPER]}"
    )
    if problem:
        reader.problem(f"{SLS_PROJECT}/{SLS_LOGSTORE}/{SLS_SHIPPER}", problem)
        return ()
    return (ref,)


def _context_region(context: Any) -> str | None:
    region = getattr(context, "region", None) if context is not None else None
    return region if isinstance(region, str) and region else None


def _read_endpoint(reader: _Reader, context: Any) -> Endpoint | None:
    text = reader.raw(SLS_ENDPOINT)
    source = "env"
    region = _context_region(context)
    if text is None:
        if region is None:
            reader.problem(
                SLS_ENDPOINT, "not set, and there is no FC context region to default from"
            )
            reader.show(SLS_ENDPOINT, "(unset)", "default")
            return None
        source = "context"
    try:
        endpoint = Endpoint.parse(text) if text is not None else Endpoint.fc_default(region)
    except ValueError as exc:
        # An endpoint with user:password@ is refused; neither may print the password.
        reader.problem(SLS_ENDPOINT, mask_userinfo(str(exc)))
        reader.show(SLS_ENDPOINT, mask_userinfo(text or "(from the FC region)"), "invalid")
        return None
    reader.show(SLS_ENDPOINT, str(endpoint), source)
    return endpoint


def _read_credentials(reader: _Reader, context: Any) -> Credentials | None:
    creds = getattr(context, "credentials", None) if context is not None else None
    key_id = getattr(creds, "access_key_id", None)
    if creds is not None and key_id:
        secret = getattr(creds, "access_key_secret", "") or ""
        token = getattr(creds, "security_token", "") or ""
        for name in (ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN):
            reader.show(name, "(from the FC context)", "context")
        return Credentials(key_id, Secret(secret), Secret(token) if token else None)
    access_key_id = reader.raw(ACCESS_KEY_ID)
    # Shown by its first characters only: enough to tell which key, not the key.
    shown_id = f"{access_key_id[:4]}***" if access_key_id else "(unset)"
    reader.show(ACCESS_KEY_ID, shown_id, "env" if access_key_id else "default")
    access_key_secret = reader.secret(ACCESS_KEY_SECRET)
    token = reader.secret(SECURITY_TOKEN)
    values = (
        access_key_id,
        access_key_secret and access_key_secret.reveal(),
        token and token.reveal(),
    )
    unusable = [
        (name, problem)
        for name, value in zip(
            (ACCESS_KEY_ID, ACCESS_KEY_SECRET, SECURITY_TOKEN), values, strict=True
        )
        if value and (problem := credential_problem(value))
    ]
    for name, problem in unusable:
        reader.problem(name, problem)  # never the value: it is a credential
    if unusable:
        return None
    if access_key_id and access_key_secret:
        return Credentials(access_key_id, access_key_secret, token)
    if not access_key_id and not access_key_secret:
        reader.problem(
            f"{ACCESS_KEY_ID}/{ACCESS_KEY_SECRET}",
            "not set, and the FC context carries no credentials "
            "(give the function a role, or set both variables)",
        )
    else:
        missing = ACCESS_KEY_SECRET if access_key_id else ACCESS_KEY_ID
        other = ACCESS_KEY_ID if access_key_id else ACCESS_KEY_SECRET
        reader.problem(missing, f"not set, but {other} is: both are needed")
    return None


def _read_rules(reader: _Reader) -> Rules:
    defaults = Rules()
    interval = reader.duration(CHECK_INTERVAL, defaults.check_interval, MIN_CHECK_INTERVAL)
    settle = reader.duration(SETTLE_DELAY, defaults.settle_delay)
    lookback = reader.duration(LOOKBACK, defaults.lookback, 1)
    threshold = reader.integer(FAIL_THRESHOLD, defaults.fail_threshold, 1, 10**9)

    def ratio(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        if not 0 < value <= 1:
            raise ValueError(f"{text!r} must be greater than 0 and at most 1")
        return value

    fail_ratio = reader._read(FAIL_RATIO_THRESHOLD, None, ratio)
    grace = reader.duration(FAIL_GRACE, defaults.fail_grace)
    running_timeout = reader.duration(RUNNING_TIMEOUT, None, 1)
    stall_timeout = reader.duration(STALL_TIMEOUT, None, 1)
    remind = reader.duration(REMIND_INTERVAL, defaults.remind_interval, 1)
    notify_resolved = reader.boolean(NOTIFY_RESOLVED, defaults.notify_resolved)

    if settle is not None and interval is not None and settle + interval > MAX_LOOKBACK:
        reader.problem(
            SETTLE_DELAY,
            f"{format_duration(settle)} plus CHECK_INTERVAL ({format_duration(interval)}) exceeds"
            " 47h: every window would start before the 48 hours the API serves",
        )
    if lookback is not None and lookback > MAX_LOOKBACK:
        reader.problem(
            LOOKBACK, f"{format_duration(lookback)} exceeds 47h (the API serves 48 hours)"
        )
        lookback = MAX_LOOKBACK
    if lookback is not None and interval is not None and lookback < interval:
        reader.problem(
            LOOKBACK,
            f"{format_duration(lookback)} is shorter than CHECK_INTERVAL "
            f"({format_duration(interval)}): the previous window could not be judged",
        )
    # A task is seen only while its creation is within LOOKBACK of the window, so a
    # finding due more than LOOKBACK after creation would never be reported.
    for name, value in ((FAIL_GRACE, grace), (RUNNING_TIMEOUT, running_timeout)):
        if value is not None and lookback is not None and value > lookback:
            reader.problem(
                name,
                f"{format_duration(value)} exceeds LOOKBACK ({format_duration(lookback)}): "
                "such tasks would be out of the fetched range when due",
            )
    return Rules(
        check_interval=interval or defaults.check_interval,
        settle_delay=settle if settle is not None else defaults.settle_delay,
        lookback=lookback or defaults.lookback,
        fail_threshold=threshold or defaults.fail_threshold,
        fail_ratio_threshold=fail_ratio,
        fail_grace=grace if grace is not None else defaults.fail_grace,
        running_timeout=running_timeout,
        stall_timeout=stall_timeout,
        remind_interval=remind or defaults.remind_interval,
        notify_resolved=notify_resolved,
    )


def _read_timezone(reader: _Reader) -> tuple[str, tzinfo]:
    name = reader.text(ALERT_TIMEZONE, "UTC") or "UTC"
    if name.upper() in ("UTC", "Z"):
        return "UTC", timezone.utc
    try:
        from zoneinfo import ZoneInfo  # noqa: PLC0415 - only when a zone other than UTC is set

        return name, ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        reader.problem(
            ALERT_TIMEZONE, f"{name!r} is not a known IANA time zone (e.g. Asia/Shanghai)"
        )
    except Exception:  # ZoneInfoNotFoundError is a KeyError; anything else: no tz database
        reader.problem(ALERT_TIMEZONE, f"{name!r} cannot be loaded (no time zone database)")
    return "UTC", timezone.utc


def _read_template_dir(reader: _Reader) -> Path | None:
    text = reader.text(TEMPLATE_DIR)
    if text is None:
        return None
    path = Path(text)
    if not path.is_dir():
        reader.problem(TEMPLATE_DIR, f"{text!r} is not a directory")
        return None
    return path


def _check_orphans(reader: _Reader, channel: str) -> bool:
    """True when the channel is on; a problem for each of its variables set while it is off."""
    first, *rest = CHANNEL_VARIABLES[channel]
    if reader.raw(first) is not None:
        return True
    for name in rest:
        if reader.raw(name) is not None:
            reader.problem(name, f"is set but {first} is not, so the {channel} channel is off")
    return False


def _read_mobiles(reader: _Reader, name: str) -> tuple[str, ...]:
    mobiles = reader.items(name)
    for mobile in mobiles:
        if not re.fullmatch(r"\+?[0-9][0-9-]{4,19}|@all", mobile):
            reader.problem(name, f"{mobile!r} is not a mobile number")
    return mobiles


def _read_signing_secret(reader: _Reader, name: str, prefix: str | None) -> Secret | None:
    secret = reader.secret(name)
    if secret is not None and prefix and not secret.reveal().startswith(prefix):
        reader.problem(
            name,
            f"does not start with {prefix!r} as signing secrets do "
            "(copy the secret shown under the robot's security settings, not its token)",
        )
    return secret


def _read_email(reader: _Reader) -> EmailSettings | None:
    recipients = reader.items(EMAIL_TO)
    sender = reader.text(EMAIL_FROM)
    transport = reader.choice(EMAIL_TRANSPORT, "smtp", EMAIL_TRANSPORTS) or "smtp"
    host = reader.text(SMTP_HOST)
    port = reader.integer(SMTP_PORT, 465, 1, 65535) or 465
    security = reader.choice(SMTP_SECURITY, None, SMTP_SECURITIES)
    username = reader.text(SMTP_USERNAME)
    password = reader.secret(SMTP_PASSWORD)
    region = reader.text(SES_REGION)
    ok = True
    for address in recipients:
        if not _EMAIL_ADDRESS.fullmatch(address):
            reader.problem(EMAIL_TO, f"{address!r} is not an email address")
            ok = False
    if sender is None:
        reader.problem(EMAIL_FROM, "not set, but EMAIL_TO is: email needs a sender address")
        ok = False
    elif not _EMAIL_ADDRESS.search(sender) or "\n" in sender or "\r" in sender:
        reader.problem(EMAIL_FROM, f"{sender!r} is not an email address")
        ok = False
    if security is None:
        security = "ssl" if port == 465 else "starttls"
        reader.show(SMTP_SECURITY, security, "default")
    if transport == "smtp":
        if host is None:
            reader.problem(SMTP_HOST, "not set, but EMAIL_TO is and EMAIL_TRANSPORT is smtp")
            ok = False
        elif security == "none" and not is_loopback_host(host):
            reader.problem(
                SMTP_SECURITY,
                "none is allowed only to a loopback SMTP host; use ssl or starttls",
            )
            ok = False
        if bool(username) != bool(password):
            missing = SMTP_PASSWORD if username else SMTP_USERNAME
            reader.problem(missing, "not set: SMTP_USERNAME and SMTP_PASSWORD go together")
            ok = False
    elif region is None:
        reader.problem(SES_REGION, "not set, but EMAIL_TRANSPORT is ses")
        ok = False
    if not ok:
        return None
    return EmailSettings(
        to=recipients,
        sender=sender or "",
        transport=transport,
        smtp_host=host,
        smtp_port=port,
        smtp_security=security,
        smtp_username=username,
        smtp_password=password,
        ses_region=region,
    )


def _read_channels(reader: _Reader) -> Channels:
    found: dict[str, Any] = {}
    if _check_orphans(reader, "dingtalk"):
        url = reader.url(DINGTALK_WEBHOOK_URL)
        secret = _read_signing_secret(reader, DINGTALK_SECRET, "SEC")
        mobiles = _read_mobiles(reader, DINGTALK_AT_MOBILES)
        at_all = reader.boolean(DINGTALK_AT_ALL, False)
        if url:
            found["dingtalk"] = DingTalkSettings(url, secret, mobiles, at_all)
    if _check_orphans(reader, "slack"):
        url = reader.url(SLACK_WEBHOOK_URL)
        if url:
            found["slack"] = SlackSettings(url)
    if _check_orphans(reader, "wecom"):
        url = reader.url(WECOM_WEBHOOK_URL)
        mobiles = _read_mobiles(reader, WECOM_MENTIONED_MOBILES)
        if url:
            found["wecom"] = WeComSettings(url, mobiles)
    if _check_orphans(reader, "feishu"):
        url = reader.url(FEISHU_WEBHOOK_URL)
        secret = _read_signing_secret(reader, FEISHU_SECRET, None)
        if url:
            found["feishu"] = FeishuSettings(url, secret)
    if _check_orphans(reader, "webhook"):
        url = reader.url(WEBHOOK_URL)
        if url:
            found["webhook"] = WebhookSettings(url)
    if _check_orphans(reader, "email"):
        email = _read_email(reader)
        if email:
            found["email"] = email
    return Channels(**found)


@dataclass(frozen=True)
class Inspection:
    """Everything `validate` prints: the settings (when valid), the problems, the values."""

    settings: Settings | None
    problems: tuple[str, ...]
    shown: tuple[Shown, ...]


def inspect_settings(
    environ: Mapping[str, str], context: Any = None, dry_run: bool | None = None
) -> Inspection:
    """Read every variable; never raises for a bad value, returns the problems instead.

    `dry_run` (from the event or the command line) overrides DRY_RUN when not None; it
    decides whether a channel is required.
    """
    reader = _Reader(environ)
    endpoint = _read_endpoint(reader, context)
    credentials = _read_credentials(reader, context)
    shippers = _read_shippers(reader)
    rules = _read_rules(reader)
    auto_retry = reader.boolean(AUTO_RETRY, False)
    timezone_name, zone = _read_timezone(reader)
    configured_dry_run = reader.boolean(DRY_RUN, False)
    effective_dry_run = configured_dry_run if dry_run is None else dry_run
    template_dir = _read_template_dir(reader)
    log_level = reader.choice(LOG_LEVEL, "info", tuple(lv.lower() for lv in LOG_LEVELS)) or "info"
    channels = _read_channels(reader)
    if (
        not effective_dry_run
        and not channels.enabled()
        and not any(reader.raw(variables[0]) for variables in CHANNEL_VARIABLES.values())
    ):
        reader.problem(
            "channels",
            "no channel is configured (set DINGTALK_WEBHOOK_URL, SLACK_WEBHOOK_URL, "
            "WECOM_WEBHOOK_URL, FEISHU_WEBHOOK_URL, WEBHOOK_URL or EMAIL_TO), "
            "and this is not a dry run",
        )
    settings = None
    if not reader.problems and endpoint is not None and credentials is not None:
        settings = Settings(
            endpoint=endpoint,
            credentials=credentials,
            shippers=shippers,
            rules=rules,
            channels=channels,
            auto_retry=auto_retry,
            timezone_name=timezone_name,
            timezone=zone,
            dry_run=effective_dry_run,
            template_dir=template_dir,
            log_level=log_level.upper(),
        )
    return Inspection(settings, tuple(reader.problems), tuple(reader.shown.values()))


def load_settings(
    environ: Mapping[str, str], context: Any = None, dry_run: bool | None = None
) -> Settings:
    """The validated settings, or ConfigError listing every problem."""
    inspection = inspect_settings(environ, context, dry_run)
    if inspection.settings is None:
        raise ConfigError(list(inspection.problems))
    return inspection.settings
