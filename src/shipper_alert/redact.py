"""Secrets that cannot print themselves, and scrubbing of secret text out of log records.

A secret (access key secret, STS token, webhook token, SMTP password) is held in a
`Secret`, whose str() and repr() are masked; code that needs the value calls `.reveal()`
at the last moment (signing, building the request). Webhook URLs carry their credential in
the path or query, so `redact_url` keeps only scheme, host and the first path segment.

As a second line of defence every revealed value is registered with `SecretScrubber`, a
logging filter that replaces it in any record that reaches a handler (our own logs, and
any third-party library's, e.g. urllib3 logging a request line with `?access_token=`).
`scrub()` is also applied to every text a peer sends back before it reaches an error, the
result or a message. Each value is registered in the forms a text may quote it in: as is,
URL-quoted, as `repr()` and JSON escape it, and base64 (SMTP AUTH LOGIN sends the password
so, https://www.rfc-editor.org/rfc/rfc4616 PLAIN sends `\0user\0password` so). The registry
holds at most `MAX_VALUES`, oldest dropped first, so warm invocations that each load fresh
STS tokens cannot grow it without bound.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import urllib.parse
from typing import Any, ClassVar

MASK = "***"


class Secret:
    """A string that masks itself in str(), repr() and format()."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        if value.startswith(("https://", "http://")):
            SecretScrubber.register_url(value)
        elif value:
            SecretScrubber.register(value)

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    def __str__(self) -> str:
        return MASK if self._value else ""

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __reduce__(self):  # pickling would carry the value out of the wrapper
        raise TypeError("a Secret cannot be pickled")


def redact_url(url: str) -> str:
    """Return `url` with anything that may be a credential removed.

    Keeps the scheme, host, port and first path segment, which is enough to tell which
    service and which endpoint failed (`https://oapi.dingtalk.com/robot/...`), and drops
    the rest of the path, the query (`access_token=`, `key=`), user info and fragment.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    segments = [s for s in parts.path.split("/") if s]
    path = f"/{segments[0]}/{MASK}" if segments else "/"
    if len(segments) == 1 and not parts.query:
        path = f"/{segments[0]}"
    query = f"?{MASK}" if parts.query else ""
    return f"{parts.scheme}://{netloc}{path}{query}"


_USERINFO = re.compile(r"(?<![^\s/'\"])[^\s/@()'\"]+@(?=[A-Za-z0-9\[])")


def mask_userinfo(text: str) -> str:
    """`text` with any `user:password@` before a host replaced by `***@`."""
    return _USERINFO.sub(MASK + "@", text)


def _base64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


class SecretScrubber(logging.Filter):
    """Logging filter replacing every registered secret value with `***`.

    Installed on the handlers of the root logger by `install()`; registering happens when
    a `Secret` is created, so every configured secret is covered before any request.
    """

    _values: ClassVar[dict[str, None]] = {}  # ordered: the oldest is dropped first
    _lock: ClassVar[threading.Lock] = threading.Lock()
    _pattern: ClassVar[re.Pattern[str] | None] = None  # every value, longest first
    # Secrets shorter than this are not scrubbed as substrings: masking every "1" in a log
    # line would make logs unreadable and such a value is no credential anyway.
    MIN_LENGTH = 4
    MIN_PATH_TOKEN = 8
    # Each secret adds up to six forms; a configuration has a dozen secrets at most.
    MAX_VALUES = 512

    @classmethod
    def register(cls, value: str) -> None:
        if len(value) < cls.MIN_LENGTH:
            return
        cls._add(
            value,
            # URL-encoded forms appear in request lines logged by HTTP libraries.
            urllib.parse.quote(value, safe=""),
            repr(value)[1:-1],
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
            _base64(value),
        )

    @classmethod
    def register_login(cls, username: str, password: str) -> None:
        """Register the base64 blob of an SMTP AUTH PLAIN exchange for this login."""
        if len(password) >= cls.MIN_LENGTH:
            cls.register(password)
            cls._add(_base64(f"\0{username}\0{password}"))

    @classmethod
    def _add(cls, *forms: str) -> None:
        with cls._lock:
            for form in forms:
                if len(form) < cls.MIN_LENGTH:
                    continue
                cls._values.pop(form, None)
                cls._values[form] = None
            while len(cls._values) > cls.MAX_VALUES:
                del cls._values[next(iter(cls._values))]
            cls._pattern = None

    @classmethod
    def registered(cls) -> int:
        with cls._lock:
            return len(cls._values)

    @classmethod
    def register_url(cls, url: str) -> None:
        """Register the parts of a webhook URL that are its credential.

        DingTalk and WeCom carry it in the query (`access_token=`, `key=`); Slack, Feishu and
        most generic webhooks in the last path segment. A reply or an HTTP library quoting
        just that part is scrubbed too, not only the whole URL.
        """
        try:
            parts = urllib.parse.urlsplit(url)
        except ValueError:
            cls.register(url)
            return
        if not (parts.path.strip("/") or parts.query or parts.fragment or "@" in parts.netloc):
            return  # scheme and host only ("https://", a bad value): nothing secret in it
        cls.register(url)
        values = [v for vs in urllib.parse.parse_qs(parts.query).values() for v in vs]
        if not values:
            last = parts.path.rstrip("/").rsplit("/", 1)[-1]
            # Short segments ("send", "hook") are words, not tokens.
            if len(last) >= cls.MIN_PATH_TOKEN:
                values.append(last)
        for value in values:
            cls.register(value)

    @classmethod
    def scrub(cls, text: str) -> str:
        if not isinstance(text, str):
            text = str(text)
        with cls._lock:
            if cls._pattern is None and cls._values:
                ordered = sorted(cls._values, key=len, reverse=True)
                cls._pattern = re.compile("|".join(map(re.escape, ordered)))
            pattern = cls._pattern
        return pattern.sub(MASK, text) if pattern is not None else text

    @classmethod
    def scrub_tree(cls, value: Any) -> Any:
        """`value` (JSON-like: dicts, lists, strings) with every string scrubbed."""
        if isinstance(value, str):
            return cls.scrub(value)
        if isinstance(value, dict):
            return {cls.scrub_tree(k): cls.scrub_tree(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [cls.scrub_tree(v) for v in value]
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._values:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        scrubbed = self.scrub(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now, scrubbed, so the handler does not format it raw.
            formatter = logging.Formatter()
            record.exc_text = self.scrub(formatter.formatException(record.exc_info))
            record.exc_info = None
        if scrubbed != message or record.args:
            record.msg = scrubbed
            record.args = None
        return True

    @classmethod
    def install(cls, logger: logging.Logger | None = None) -> None:
        """Add one scrubber to every handler of `logger` (default: root) that lacks one."""
        target = logger or logging.getLogger()
        for handler in target.handlers:
            if not any(isinstance(f, cls) for f in handler.filters):
                handler.addFilter(cls())
