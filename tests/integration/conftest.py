"""Fixtures for tests against real loopback servers: the SLS simulator and signed requests.

- `sim_clock`: a `SimClock` standing at a fixed recent instant (the current time rounded
  down to a whole 5 minutes), so tests can place tasks relative to it and move it by hand.
- `sls_sim(scenario, **kwargs)`: a started `SlsSimulator` on that clock (unless `clock=` is
  given), stopped at teardown.
- `sim_client(sim, **options)`: an `SlsClient` on `sim` with its default keys, the sim
  clock, a 30 s deadline and no real sleeps between retries (`options` override them).
- `sls_request(sim, method, path, ...)`: one raw `requests` call signed with
  `shipper_alert.sls.signing`, with knobs to break it (wrong key, missing headers, ...).
- `fc_package`: dist/shipper-alert-fc.zip as `make package` builds it, rebuilt at most once
  per session, and only when older than what goes into it. `code_package` is the same zip
  under the name the FC 2.0 and 3.0 deploy tests use.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import requests

from shipper_alert.budget import Deadline
from shipper_alert.redact import Secret
from shipper_alert.sls import signing
from shipper_alert.sls.client import SlsClient
from shipper_alert.sls.credentials import Credentials
from shipper_alert_dev.sim import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    SimClock,
    SlsSimulator,
)

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dist" / "shipper-alert-fc.zip"


@pytest.fixture(scope="session")
def fc_package() -> Path:
    sources = [ROOT / "src" / "index.py", ROOT / "requirements.txt", ROOT / "tools" / "package.py"]
    sources += [p for p in (ROOT / "src" / "shipper_alert").rglob("*") if p.is_file()]
    newest = max(p.stat().st_mtime for p in sources if "__pycache__" not in p.parts)
    if not PACKAGE.is_file() or PACKAGE.stat().st_mtime < newest:
        done = subprocess.run(  # noqa: S603 - our own interpreter and tool
            [sys.executable, str(ROOT / "tools" / "package.py")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"tools/package.py failed:\n{done.stderr}"
    return PACKAGE


@pytest.fixture
def sim_clock() -> SimClock:
    return SimClock((int(time.time()) // 300) * 300)


@pytest.fixture
def sls_sim(sim_clock: SimClock) -> Iterator[Callable[..., SlsSimulator]]:
    started: list[SlsSimulator] = []

    def start(scenario: Any = None, **kwargs: Any) -> SlsSimulator:
        kwargs.setdefault("clock", sim_clock)
        simulator = SlsSimulator(scenario, **kwargs).start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


@pytest.fixture
def sim_client(sim_clock: SimClock) -> Callable[..., SlsClient]:
    credentials = Credentials(DEFAULT_ACCESS_KEY_ID, Secret(DEFAULT_ACCESS_KEY_SECRET))

    def make(sim: SlsSimulator, **options: Any) -> SlsClient:
        defaults = {"deadline": Deadline(30), "clock": sim_clock.now, "sleep": lambda s: None}
        return SlsClient(sim.endpoint, credentials, **{**defaults, **options})

    return make


SignedRequest = Callable[..., requests.Response]


@pytest.fixture
def sls_request() -> Iterator[SignedRequest]:
    session = requests.Session()

    def call(
        sim: SlsSimulator,
        method: str,
        path: str,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        *,
        project: str | None = "p",
        body: bytes | list[Any] | None = None,
        access_key_id: str = DEFAULT_ACCESS_KEY_ID,
        access_key_secret: str = DEFAULT_ACCESS_KEY_SECRET,
        security_token: str | None = None,
        date: str | None = None,
        omit: Sequence[str] = (),
        extra_headers: Mapping[str, str] | None = None,
        signed_params: Sequence[tuple[str, Any]] | None = None,
        timeout: float = 5.0,
    ) -> requests.Response:
        """Send one signed request; `omit` drops headers (lower-case names) after signing."""
        items = params.items() if isinstance(params, Mapping) else params or []
        pairs = [(k, str(v)) for k, v in items]
        raw = json.dumps(body).encode() if isinstance(body, list) else (body or b"")
        headers = {
            "date": date or signing.http_date(sim.clock.now()),
            "x-log-apiversion": signing.API_VERSION,
            "x-log-signaturemethod": signing.SIGNATURE_METHOD,
            "x-log-bodyrawsize": str(len(raw)),
        }
        if raw:
            headers["content-type"] = "application/json"
            headers["content-md5"] = signing.content_md5(raw)
        if security_token is not None:
            headers["x-acs-security-token"] = security_token
        to_sign = [(k, str(v)) for k, v in signed_params] if signed_params is not None else pairs
        headers["authorization"] = signing.authorization(
            access_key_id, access_key_secret, method, path, to_sign, headers
        )
        host = sim.url.split("://", 1)[1]
        if project is not None:
            headers["host"] = f"{project}.{host}"
        headers.update(extra_headers or {})
        for name in omit:
            headers.pop(name, None)
        return session.request(
            method, sim.url + path, params=pairs, data=raw, headers=headers, timeout=timeout
        )

    yield call
    session.close()


@pytest.fixture(scope="session")
def code_package(fc_package: Path) -> Path:
    return fc_package


@pytest.fixture
def serve():
    """Start `HostileServer(behaviour)`s (tests/hostile.py); all stop after the test."""
    from hostile import HostileServer  # noqa: PLC0415

    servers: list[HostileServer] = []

    def start(behaviour) -> HostileServer:
        server = HostileServer(behaviour).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
