"""Configuration: every environment variable, read and checked once, into frozen settings.

The variables are listed in README.md, "Configuration". This module reads what is common
(targets, rules, credentials, endpoint) and asks each channel in `notify.registry` for its
own. `load_settings` reads them all before any network call and raises one `ConfigError`
listing every problem, each naming its variable and never echoing a secret's value.
Nothing else in the package reads `os.environ`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timezone, tzinfo
from pathlib import Path
from typing import Any

from shipper_alert import exports_settings
from shipper_alert.addresses import is_loopback_host  # noqa: F401 - tools/fc.py imports it
from shipper_alert.durations import format_duration
from shipper_alert.errors import ConfigError
from shipper_alert.exports_settings import (  # the names are config's variables too
    DIAGNOSTIC_LOGSTORE,  # noqa: F401
    EXPORT_FAILED_ROWS_THRESHOLD,  # noqa: F401
    EXPORT_LAG_THRESHOLD,  # noqa: F401
    EXPORTS,  # noqa: F401
    ExportSettings,
)
from shipper_alert.ledger.settings import STATE_URL, LedgerSettings  # noqa: F401 - a variable name
from shipper_alert.ledger.settings import read as read_ledger_settings
from shipper_alert.models import ShipperRef
from shipper_alert.notify.registry import CHANNELS, Channels
from shipper_alert.reader import Reader, Shown
from shipper_alert.redact import Secret, mask_userinfo
from shipper_alert.sls.credentials import Credentials
from shipper_alert.sls.endpoint import Endpoint
from shipper_alert.titles import DEFAULT_LABEL, default_label
from shipper_alert.validation import credential_problem
from shipper_alert.variables import names_from_constants, unknown_variable_problems

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
CHECK_WORKERS = "CHECK_WORKERS"
ALERT_TIMEZONE = "ALERT_TIMEZONE"
DRY_RUN = "DRY_RUN"
TEMPLATE_DIR = "TEMPLATE_DIR"
LOG_LEVEL = "LOG_LEVEL"
ALERT_LABEL = "ALERT_LABEL"
HEARTBEAT_URL = "HEARTBEAT_URL"

# Each channel's variables (the first one switches the channel on), from its package.
CHANNEL_VARIABLES: dict[str, tuple[str, ...]] = {
    name: channel.settings.VARIABLES for name, channel in CHANNELS.items()
}
# Every variable is also a name of this module, as before channels had packages:
# tools/fc.py lists the variables the function reads from vars(config).
globals().update({name: name for names in CHANNEL_VARIABLES.values() for name in names})
SECRET_VARIABLES = frozenset(
    {ACCESS_KEY_SECRET, SECURITY_TOKEN, HEARTBEAT_URL}.union(  # a heartbeat URL carries a token
        *(c.settings.SECRETS for c in CHANNELS.values())
    )
)

# Every variable name defined above; a settings module elsewhere adds its own with `|`.
KNOWN_VARIABLES = names_from_constants(globals())

MAX_LOOKBACK = 47 * 3600  # https://www.alibabacloud.com/help/doc-detail/29027.htm: 48 hours
MIN_CHECK_INTERVAL = 60  # timers: https://help.aliyun.com/document_detail/171746.html
MAX_LABEL_CHARS = 64
# Concurrent SLS requests of one check (shippers, their pages and export reads together).
# 10, not 8: at 20 ms a request the SDK's serial reads cost some 26 ms each, so with 8 in
# flight not even a client that parses nothing is 10x faster than it (`make bench`, "wire").
DEFAULT_WORKERS = 10
MAX_WORKERS = 64
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


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


def _temp_dir() -> Path:
    """The instance's temporary directory: tempfile's environment variables, in its order,
    else /tmp (without importing tempfile, which loads shutil, random, bz2 and lzma; nor
    its probe write: a directory that cannot be written only costs a repeated notice)."""
    for name in ("TMPDIR", "TEMP", "TMP"):
        if value := os.environ.get(name):
            return Path(value)
    return Path("/tmp")  # noqa: S108 - FC's writable temporary directory


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
    state_dir: Path = field(default_factory=_temp_dir)
    exports: ExportSettings = field(default_factory=ExportSettings)
    alert_label: str = DEFAULT_LABEL
    heartbeat_url: Secret | None = None
    ledger: LedgerSettings | None = None  # STATE_URL
    workers: int = DEFAULT_WORKERS  # CHECK_WORKERS


def _parse_shipper(text: str) -> tuple[ShipperRef | None, str | None]:
    try:
        return ShipperRef.parse(text), None
    except ValueError as exc:
        return None, str(exc)


def _read_shippers(reader: Reader, required: bool = True) -> tuple[ShipperRef, ...]:
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
        if required:
            reader.problem(
                SHIPPERS,
                "no shipper to watch: set SHIPPERS or SLS_PROJECT, SLS_LOGSTORE and SLS_SHIPPER"
                " (or EXPORTS for export jobs)",
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


def _read_endpoint(reader: Reader, context: Any) -> Endpoint | None:
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


def _read_credentials(reader: Reader, context: Any) -> Credentials | None:
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


def _read_rules(reader: Reader) -> Rules:
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
    # 0 is allowed: every breached window notifies on its own (contract, REMIND_INTERVAL).
    remind = reader.duration(REMIND_INTERVAL, defaults.remind_interval)
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
        remind_interval=remind if remind is not None else defaults.remind_interval,
        notify_resolved=notify_resolved,
    )


def _read_timezone(reader: Reader) -> tuple[str, tzinfo]:
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


def _read_template_dir(reader: Reader) -> Path | None:
    text = reader.text(TEMPLATE_DIR)
    if text is None:
        return None
    path = Path(text)
    if not path.is_dir():
        reader.problem(TEMPLATE_DIR, f"{text!r} is not a directory")
        return None
    return path


def _switches() -> str:
    """The variables that switch a channel on, as a sentence: "A, B or C"."""
    first = [variables[0] for variables in CHANNEL_VARIABLES.values()]
    return f"{', '.join(first[:-1])} or {first[-1]}"


def _read_label(reader: Reader, context: Any) -> str:
    """ALERT_LABEL, else the FC function's name and region, else shipper-alert."""
    label = reader.text(ALERT_LABEL)
    if label is not None:
        if len(label) > MAX_LABEL_CHARS or not label.isprintable():
            reader.problem(ALERT_LABEL, f"must be one line of at most {MAX_LABEL_CHARS} characters")
            return DEFAULT_LABEL
        return label
    name = getattr(getattr(context, "function", None), "name", None)
    label = default_label(name if isinstance(name, str) else None, _context_region(context))
    reader.show(ALERT_LABEL, label, "default" if label == DEFAULT_LABEL else "context")
    return label


def _check_orphans(reader: Reader, channel: str) -> bool:
    """True when the channel is on; a problem for each of its variables set while it is off."""
    first, *rest = CHANNEL_VARIABLES[channel]
    if reader.raw(first) is not None:
        return True
    for name in rest:
        if reader.raw(name) is not None:
            reader.problem(name, f"is set but {first} is not, so the {channel} channel is off")
    return False


def _read_channels(reader: Reader) -> Channels:
    found: dict[str, Any] = {}
    for name, channel in CHANNELS.items():
        if _check_orphans(reader, name):
            found[name] = channel.settings.read(reader)
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
    reader = Reader(environ, SECRET_VARIABLES)
    reader.problems.extend(unknown_variable_problems(environ, KNOWN_VARIABLES))
    endpoint = _read_endpoint(reader, context)
    credentials = _read_credentials(reader, context)
    exports = exports_settings.read(reader)
    shippers = _read_shippers(reader, required=reader.raw(exports_settings.EXPORTS) is None)
    rules = _read_rules(reader)
    auto_retry = reader.boolean(AUTO_RETRY, False)
    timezone_name, zone = _read_timezone(reader)
    configured_dry_run = reader.boolean(DRY_RUN, False)
    effective_dry_run = configured_dry_run if dry_run is None else dry_run
    template_dir = _read_template_dir(reader)
    log_level = reader.choice(LOG_LEVEL, "info", tuple(lv.lower() for lv in LOG_LEVELS)) or "info"
    channels = _read_channels(reader)
    ledger = read_ledger_settings(reader, _context_region(context))
    alert_label = _read_label(reader, context)
    heartbeat_url = reader.url(HEARTBEAT_URL)
    workers = reader.integer(CHECK_WORKERS, DEFAULT_WORKERS, 1, MAX_WORKERS) or DEFAULT_WORKERS
    if (
        not effective_dry_run
        and not channels.enabled()
        and not any(reader.raw(variables[0]) for variables in CHANNEL_VARIABLES.values())
    ):
        reader.problem(
            "channels",
            f"no channel is configured (set {_switches()}), and this is not a dry run",
        )
    settings = None
    if not reader.problems and endpoint is not None and credentials is not None:
        settings = Settings(
            endpoint=endpoint,
            credentials=credentials,
            shippers=shippers,
            rules=rules,
            channels=channels,
            exports=exports,
            auto_retry=auto_retry,
            timezone_name=timezone_name,
            timezone=zone,
            dry_run=effective_dry_run,
            template_dir=template_dir,
            log_level=log_level.upper(),
            ledger=ledger,
            alert_label=alert_label,
            heartbeat_url=heartbeat_url,
            workers=workers,
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
