"""SlsClient against the SLS simulator over real loopback HTTP.

Paging, retries of transient failures (and none of permanent ones), the deadline, STS,
RetryShipperTask chunking, the list APIs, IPv6 and the absence of secrets in logs. Time is
faked where the client would wait: back-off sleeps advance a fake monotonic clock that
the `Deadline` reads, so no test sleeps through a back-off.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import shipper_alert
from shipper_alert.budget import Deadline
from shipper_alert.redact import Secret
from shipper_alert.sls import signing
from shipper_alert.sls.client import Credentials, SlsClient
from shipper_alert.sls.errors import (
    SlsAuthError,
    SlsBadResponseError,
    SlsConnectionError,
    SlsError,
    SlsIncompleteReadError,
    SlsNotFoundError,
    SlsRequestError,
    SlsTransientError,
)
from shipper_alert_dev.sim import (
    API_GET_SHIPPER_STATUS,
    API_LIST_LOGSTORES,
    API_LIST_SHIPPER,
    API_RETRY_SHIPPER_TASK,
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    Fault,
    SimClock,
    SlsSimulator,
)

PROJECT, LOGSTORE, SHIPPER = "proj", "logs", "ship"
HOUR = 3600
GENERATED = 1203

CREDENTIALS = Credentials(DEFAULT_ACCESS_KEY_ID, Secret(DEFAULT_ACCESS_KEY_SECRET))
STS_ID = "STS.sim-temporary-id"
STS_SECRET = "sts-secret-Zq9-never-log-me"
STS_TOKEN = "sts-token-CAIS-never-log-me-either"


def shipper_scenario(count: int = GENERATED, status: str = "success") -> dict[str, Any]:
    generate = {
        "start": "-24h",
        "every": "1m",
        "count": count,
        "duration": "30s",
        "status": status,
        "idPrefix": "gen",
    }
    return {
        "projects": [
            {
                "name": PROJECT,
                "logstores": [
                    {"name": LOGSTORE, "shippers": [{"name": SHIPPER, "generate": [generate]}]}
                ],
            }
        ]
    }


class FakeTime:
    """A monotonic clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def upper_bound(low: float, high: float) -> float:
    """Deterministic "jitter": always the full back-off (0.5, 1, 2, 4, 8 s)."""
    return high


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


MakeClient = Callable[..., SlsClient]


@pytest.fixture
def make_client(sim_clock: SimClock, fake_time: FakeTime) -> Iterator[MakeClient]:
    made: list[SlsClient] = []

    def make(
        sim: SlsSimulator | str,
        *,
        credentials: Credentials = CREDENTIALS,
        deadline: float = 120.0,
        **kwargs: Any,
    ) -> SlsClient:
        kwargs.setdefault("rng", upper_bound)
        kwargs.setdefault("clock", sim_clock.now)
        client = SlsClient(
            sim if isinstance(sim, str) else sim.endpoint,
            credentials,
            deadline=Deadline(deadline, clock=fake_time.monotonic),
            sleep=fake_time.sleep,
            **kwargs,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def fetch_all(client: SlsClient, sim_clock: SimClock, **kwargs: Any) -> list[Any]:
    now = int(sim_clock.now())
    pages = client.iter_task_pages(PROJECT, LOGSTORE, SHIPPER, now - 25 * HOUR, now, **kwargs)
    return [task for page in pages for task in page.tasks]


def page_requests(sim: SlsSimulator, api: str = API_GET_SHIPPER_STATUS) -> list[tuple[str, str]]:
    return [(r.params["offset"], r.params["size"]) for r in sim.requests_for(api)]


# --- paging -----------------------------------------------------------------------------------


def test_pages_through_1203_tasks(sls_sim: Any, make_client: MakeClient, sim_clock: SimClock):
    sim = sls_sim(shipper_scenario())
    client = make_client(sim)
    now = int(sim_clock.now())

    pages = list(client.iter_task_pages(PROJECT, LOGSTORE, SHIPPER, now - 25 * HOUR, now))

    assert sorted(page_requests(sim), key=lambda r: int(r[0])) == [
        ("0", "500"),
        ("500", "500"),
        ("1000", "500"),
    ]
    assert [(page.offset, page.total, len(page.tasks)) for page in pages] == [
        (0, GENERATED, 500),
        (500, GENERATED, 500),
        (1000, GENERATED, 203),
    ]
    ids = [task.id for page in pages for task in page.tasks]
    assert len(ids) == len(set(ids))
    assert set(ids) == {f"gen-{i}" for i in range(GENERATED)}
    assert all(page.request_id for page in pages)
    first = sim.received[0]
    assert first.params == {
        "from": str(now - 25 * HOUR),
        "to": str(now),
        "status": "",
        "offset": "0",
        "size": "500",
    }
    assert all(r.authorized for r in sim.received)


def test_pages_are_fetched_as_they_are_consumed(
    sls_sim: Any, make_client: MakeClient, sim_clock: SimClock
):
    sim = sls_sim(shipper_scenario())
    now = int(sim_clock.now())
    pages = make_client(sim).iter_task_pages(PROJECT, LOGSTORE, SHIPPER, now - 25 * HOUR, now)

    assert sim.received == []
    first = next(pages)
    assert len(first.tasks) == 500
    assert page_requests(sim) == [("0", "500")]


def test_pages_are_read_ahead_only_while_slots_would_be_idle(
    sls_sim: Any, make_client: MakeClient, sim_clock: SimClock
):
    """One reader and one slot: the reader keeps the slot busy, so no page is read ahead
    (each request follows the page before it); with slots to spare, later pages are."""
    sim = sls_sim(shipper_scenario())
    now = int(sim_clock.now())
    busy = make_client(sim, pool_size=1)
    offsets = []
    for page in busy.iter_task_pages(PROJECT, LOGSTORE, SHIPPER, now - 25 * HOUR, now):
        offsets.append(str(page.offset))
        assert [offset for offset, _ in page_requests(sim)] == offsets
    assert offsets == ["0", "500", "1000"]
    assert busy._pages is None  # no page worker was ever started

    spare = make_client(sim, pool_size=4)
    assert len(fetch_all(spare, sim_clock)) == GENERATED
    assert spare._pages is not None


def test_status_filter_is_sent(sls_sim: Any, make_client: MakeClient, sim_clock: SimClock):
    sim = sls_sim(shipper_scenario(count=7, status="fail"))
    tasks = fetch_all(make_client(sim), sim_clock, status="fail")
    assert len(tasks) == 7
    assert {task.status for task in tasks} == {"fail"}
    assert sim.received[0].params["status"] == "fail"


def test_an_unknown_status_filter_is_refused_before_any_request(
    sls_sim: Any, make_client: MakeClient
):
    sim = sls_sim(shipper_scenario(count=1))
    with pytest.raises(ValueError, match="status must be empty or one of"):
        make_client(sim).iter_task_pages(PROJECT, LOGSTORE, SHIPPER, 0, 1, status="failed")
    assert sim.received == []


def test_a_server_repeating_its_pages_is_a_bad_response(
    sls_sim: Any, make_client: MakeClient, sim_clock: SimClock
):
    sim = sls_sim(shipper_scenario(count=1))
    now = int(sim_clock.now())
    task = {
        "id": "same",
        "taskStatus": "success",
        "taskMessage": "",
        "taskCreateTime": now - 60,
        "taskFinishTime": now - 30,
    }
    sim.inject(Fault(status=200, json={"total": 1000, "tasks": [task] * 500}, times=None))

    pages = make_client(sim).iter_task_pages(PROJECT, LOGSTORE, SHIPPER, now - HOUR, now)
    with pytest.raises(SlsBadResponseError) as caught:
        list(pages)

    assert page_requests(sim) == [("0", "500"), ("500", "500")]
    assert caught.value.message == (
        "GetShipperStatus returned the same page again at offset 500: the server repeats"
        " pages (ignores offset?)"
    )


def test_an_empty_page_short_of_total_is_read_again_then_incomplete(
    sls_sim: Any, make_client: MakeClient, sim_clock: SimClock
):
    sim = sls_sim(shipper_scenario(count=1))
    sim.inject(Fault(status=200, json={"total": 5000, "tasks": []}, times=None))
    with pytest.raises(SlsIncompleteReadError) as caught:
        fetch_all(make_client(sim), sim_clock)
    assert page_requests(sim) == [("0", "500"), ("0", "500")]
    assert caught.value.code == "IncompleteRead"
    assert caught.value.message == (
        "GetShipperStatus: read 0 distinct tasks of the 5000 the server counts, in 2 passes;"
        " the read is incomplete"
    )


def test_an_absurd_total_is_a_bad_response(
    sls_sim: Any, make_client: MakeClient, sim_clock: SimClock
):
    sim = sls_sim(shipper_scenario(count=1))
    sim.inject(Fault(status=200, json={"total": 10**12, "tasks": []}, times=None))
    with pytest.raises(SlsBadResponseError) as caught:
        fetch_all(make_client(sim), sim_clock)
    assert caught.value.message == (
        "GetShipperStatus response: total is 1000000000000, more than the 1000000 this client"
        " pages through"
    )
    assert len(sim.received) == 1


# --- what a request looks like ------------------------------------------------------------


def test_request_headers_and_host_rule(sls_sim: Any, make_client: MakeClient, sim_clock: SimClock):
    sim = sls_sim(shipper_scenario(count=1))
    fetch_all(make_client(sim, user_agent="shipper-alert/test"), sim_clock)

    (received,) = sim.received
    headers = received.headers
    assert received.authorized
    assert received.project == PROJECT
    assert headers["host"] == f"{PROJECT}.127.0.0.1:{sim.port}"
    assert headers["date"] == signing.http_date(sim_clock.now())
    assert headers["x-log-apiversion"] == "0.6.0"
    assert headers["x-log-signaturemethod"] == "hmac-sha1"
    assert headers["x-log-bodyrawsize"] == "0"
    assert headers["user-agent"] == "shipper-alert/test"
    assert headers["authorization"].startswith(f"LOG {DEFAULT_ACCESS_KEY_ID}:")
    for absent in ("x-acs-security-token", "content-md5", "content-type", "x-log-date"):
        assert absent not in headers


def test_default_user_agent_is_the_one_package_version(
    sls_sim: Any, make_client: MakeClient, sim_clock: SimClock
):
    sim = sls_sim(shipper_scenario(count=1))
    fetch_all(make_client(sim), sim_clock)

    (received,) = sim.received
    assert received.headers["user-agent"] == f"shipper-alert/{shipper_alert.__version__}"
    assert received.headers["user-agent"] == shipper_alert.USER_AGENT


def test_each_attempt_is_signed_with_a_fresh_date(
    sls_sim: Any, make_client: MakeClient, sim_clock: SimClock, fake_time: FakeTime
):
    sim = sls_sim(shipper_scenario(count=1))
    sim.inject(Fault(status=500, error_code="InternalServerError", times=2))
    start = fake_time.now
    # Wall time as the client sees it moves with the fake back-off sleeps (2 s, then 4 s).
    client = make_client(
        sim, backoff_base=2.0, clock=lambda: sim_clock.now() + fake_time.now - start
    )

    assert len(fetch_all(client, sim_clock)) == 1
    dates = [r.headers["date"] for r in sim.received]
    assert dates == [signing.http_date(sim_clock.now() + offset) for offset in (0, 2, 6)]
    assert len({r.headers["authorization"] for r in sim.received}) == 3
    assert all(r.authorized for r in sim.received)


# --- retries ------------------------------------------------------------------------------


def test_two_500s_then_success_gives_the_complete_result(
    sls_sim: Any, make_client: MakeClient, sim_clock: SimClock, fake_time: FakeTime
):
    sim = sls_sim(shipper_scenario())
    sim.inject(
        Fault(api=API_GET_SHIPPER_STATUS, status=500, error_code="InternalServerError", times=2)
    )

    tasks = fetch_all(make_client(sim), sim_clock)

    assert {task.id for task in tasks} == {f"gen-{i}" for i in range(GENERATED)}
    assert len(tasks) == GENERATED
    assert [r.status for r in sim.received] == [500, 500, 200, 200, 200]
    requests = page_requests(sim)
    assert requests[:3] == [("0", "500")] * 3
    # The later pages are read ahead in parallel: they may arrive in either order.
    assert sorted(requests[3:]) == [("1000", "500"), ("500", "500")]
    assert fake_time.sleeps == [0.5, 1.0]


def test_a_failure_on_a_later_page_is_retried_in_place(
    sls_sim: Any, make_client: MakeClient, sim_clock: SimClock
):
    sim = sls_sim(shipper_scenario())
    client = make_client(sim)
    now = int(sim_clock.now())
    pages = client.iter_task_pages(PROJECT, LOGSTORE, SHIPPER, now - 25 * HOUR, now)
    first = next(pages)
    sim.inject(Fault(status=503, error_code="ServerBusy", times=1))
    rest = list(pages)

    ids = [t.id for page in [first, *rest] for t in page.tasks]
    assert len(ids) == len(set(ids)) == GENERATED
    # The later pages are read in parallel: the fault hits one of them, which alone is read again.
    requests = sorted(page_requests(sim), key=lambda r: int(r[0]))
    assert requests in (
        [("0", "500"), ("500", "500"), ("500", "500"), ("1000", "500")],
        [("0", "500"), ("500", "500"), ("1000", "500"), ("1000", "500")],
    )


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=503, error_code="ServerBusy", error_message="server is busy"),
        Fault(status=403, error_code="ReadQuotaExceed", error_message="read quota exceed"),
        Fault(status=400, error_code="RequestTimeout", error_message="request timeout"),
        Fault(status=502, body="<html>502 Bad Gateway</html>"),
        Fault(drop=True),
    ],
    ids=["ServerBusy", "ReadQuotaExceed", "RequestTimeout-400", "non-JSON-502", "dropped"],
)
def test_transient_failures_are_retried(
    sls_sim: Any,
    make_client: MakeClient,
    sim_clock: SimClock,
    fake_time: FakeTime,
    fault: Fault,
):
    sim = sls_sim(shipper_scenario(count=3))
    sim.inject(fault)

    assert len(fetch_all(make_client(sim), sim_clock)) == 3
    assert len(sim.received) == 2
    assert sim.received[1].status == 200
    assert fake_time.sleeps == [0.5]


def test_a_read_timeout_is_retried(
    sls_sim: Any, make_client: MakeClient, sim_clock: SimClock, caplog: pytest.LogCaptureFixture
):
    sim = sls_sim(shipper_scenario(count=3))
    sim.inject(Fault(latency=1.0, times=1))

    with caplog.at_level(logging.WARNING, logger="shipper_alert.sls"):
        tasks = fetch_all(make_client(sim, read_timeout=0.2), sim_clock)

    assert len(tasks) == 3
    assert (
        f"GetShipperStatus: Timeout: no response within 0.20s (http://127.0.0.1:{sim.port})"
        in caplog.text
    )
    sim.stop()  # the slow first request is recorded once its latency ends
    assert [r.status for r in sim.received] == [200, 200]


def test_a_refused_connection_is_retried_then_reported(
    make_client: MakeClient, fake_time: FakeTime
):
    with socket.socket() as probe:  # a port on which nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}", max_attempts=3)

    with pytest.raises(SlsConnectionError) as caught:
        client.list_logstores(PROJECT)
    assert caught.value.code == "ConnectionError"
    assert caught.value.status is None
    assert str(caught.value) == (
        f"ListLogStores: ConnectionError: Connection refused (http://127.0.0.1:{port})"
    )
    assert fake_time.sleeps == [0.5, 1.0]


@pytest.mark.parametrize(
    ("call", "cls", "code", "status"),
    [
        ("wrong-secret", SlsAuthError, "SignatureNotMatch", 401),
        ("wrong-project", SlsNotFoundError, "ProjectNotExist", 404),
        ("wrong-logstore", SlsNotFoundError, "LogStoreNotExist", 404),
        ("wrong-shipper", SlsNotFoundError, "ShipperNotExist", 400),
        ("beyond-48h", SlsRequestError, "ParameterInvalid", 400),
        ("from-after-to", SlsRequestError, "ParameterInvalid", 400),
    ],
)
def test_permanent_errors_are_not_retried(
    sls_sim: Any,
    make_client: MakeClient,
    sim_clock: SimClock,
    fake_time: FakeTime,
    call: str,
    cls: type[SlsError],
    code: str,
    status: int,
):
    sim = sls_sim(shipper_scenario(count=3))
    now = int(sim_clock.now())
    credentials = CREDENTIALS
    if call == "wrong-secret":
        credentials = Credentials(DEFAULT_ACCESS_KEY_ID, Secret("not-the-secret"))
    args = {
        "project": "other" if call == "wrong-project" else PROJECT,
        "logstore": "other" if call == "wrong-logstore" else LOGSTORE,
        "shipper": "other" if call == "wrong-shipper" else SHIPPER,
        "start": now - 49 * HOUR if call == "beyond-48h" else now - HOUR,
        "end": now - 2 * HOUR if call == "from-after-to" else now,
    }
    client = make_client(sim, credentials=credentials)

    with pytest.raises(SlsError) as caught:
        list(client.iter_task_pages(**args))

    error = caught.value
    assert type(error) is cls
    assert (error.code, error.status, error.api) == (code, status, "GetShipperStatus")
    assert error.request_id
    assert error.retryable is False
    assert len(sim.received) == 1
    assert fake_time.sleeps == []


def test_a_bad_200_is_not_retried(sls_sim: Any, make_client: MakeClient, sim_clock: SimClock):
    sim = sls_sim(shipper_scenario(count=3))
    sim.inject(Fault(status=200, body="<html>captive portal</html>", times=None))
    with pytest.raises(SlsBadResponseError) as caught:
        fetch_all(make_client(sim), sim_clock)
    assert caught.value.message == (
        'GetShipperStatus response: is not valid JSON: "<html>captive portal</html>"'
    )
    assert caught.value.request_id
    assert len(sim.received) == 1


def test_persistent_500s_stop_after_max_attempts(
    sls_sim: Any, make_client: MakeClient, sim_clock: SimClock, fake_time: FakeTime
):
    sim = sls_sim(shipper_scenario(count=3))
    sim.inject(
        Fault(status=500, error_code="InternalServerError", error_message="boom", times=None)
    )

    with pytest.raises(SlsTransientError) as caught:
        fetch_all(make_client(sim, max_attempts=6), sim_clock)

    assert caught.value.code == "InternalServerError"
    assert len(sim.received) == 6
    assert fake_time.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_a_tiny_deadline_stops_retrying_early_with_the_last_error(
    sls_sim: Any, make_client: MakeClient, sim_clock: SimClock, fake_time: FakeTime
):
    sim = sls_sim(shipper_scenario(count=3))
    sim.inject(
        Fault(status=500, error_code="InternalServerError", error_message="boom", times=None)
    )
    # 2 s budget: after the first failure a 0.5 s back-off leaves 1.5 s, enough for another
    # attempt; after the second, a 1 s back-off would leave 0.5 s, too little.
    client = make_client(sim, deadline=2.0)

    with pytest.raises(SlsTransientError) as caught:
        fetch_all(client, sim_clock)

    assert str(caught.value).startswith("GetShipperStatus: InternalServerError (HTTP 500): boom")
    assert len(sim.received) == 2
    assert fake_time.sleeps == [0.5]


def test_a_spent_deadline_sends_nothing(sls_sim: Any, make_client: MakeClient, sim_clock: SimClock):
    sim = sls_sim(shipper_scenario(count=3))
    with pytest.raises(SlsTransientError) as caught:
        fetch_all(make_client(sim, deadline=0.0), sim_clock)
    assert caught.value.code == "DeadlineExceeded"
    assert sim.received == []


# --- STS ----------------------------------------------------------------------------------


def sts_scenario() -> dict[str, Any]:
    scenario = shipper_scenario(count=2)
    scenario["credentials"] = [
        {"accessKeyId": STS_ID, "accessKeySecret": STS_SECRET, "securityToken": STS_TOKEN}
    ]
    return scenario


def test_the_sts_token_reaches_the_server(
    sls_sim: Any, make_client: MakeClient, sim_clock: SimClock
):
    sim = sls_sim(sts_scenario())
    credentials = Credentials(STS_ID, Secret(STS_SECRET), Secret(STS_TOKEN))

    assert len(fetch_all(make_client(sim, credentials=credentials), sim_clock)) == 2

    (received,) = sim.received
    assert received.headers["x-acs-security-token"] == STS_TOKEN
    assert received.authorized


def test_a_missing_sts_token_is_an_auth_error(
    sls_sim: Any, make_client: MakeClient, sim_clock: SimClock
):
    sim = sls_sim(sts_scenario())
    credentials = Credentials(STS_ID, Secret(STS_SECRET))

    with pytest.raises(SlsAuthError) as caught:
        fetch_all(make_client(sim, credentials=credentials), sim_clock)
    assert caught.value.code == "Unauthorized"
    assert len(sim.received) == 1


# --- RetryShipperTask ---------------------------------------------------------------------


def test_retry_tasks_sends_chunks_of_at_most_ten(sls_sim: Any, make_client: MakeClient):
    sim = sls_sim(shipper_scenario(count=23, status="fail"))
    ids = [f"gen-{i}" for i in range(23)]

    make_client(sim).retry_tasks(PROJECT, LOGSTORE, SHIPPER, ids)

    assert sim.retried == [
        (PROJECT, LOGSTORE, SHIPPER, ids[0:10]),
        (PROJECT, LOGSTORE, SHIPPER, ids[10:20]),
        (PROJECT, LOGSTORE, SHIPPER, ids[20:23]),
    ]
    puts = sim.requests_for(API_RETRY_SHIPPER_TASK)
    assert [r.method for r in puts] == ["PUT"] * 3
    assert puts[2].body == json.dumps(ids[20:23]).encode()
    assert puts[2].headers["content-type"] == "application/json"
    assert puts[2].headers["content-md5"] == signing.content_md5(puts[2].body)
    assert puts[2].headers["x-log-bodyrawsize"] == str(len(puts[2].body))
    assert all(r.authorized for r in puts)


def test_retry_tasks_with_no_ids_sends_nothing(sls_sim: Any, make_client: MakeClient):
    sim = sls_sim(shipper_scenario(count=1))
    make_client(sim).retry_tasks(PROJECT, LOGSTORE, SHIPPER, [])
    assert sim.received == []


def test_retry_tasks_retries_a_transient_failure(
    sls_sim: Any, make_client: MakeClient, fake_time: FakeTime
):
    sim = sls_sim(shipper_scenario(count=3, status="fail"))
    sim.inject(Fault(api=API_RETRY_SHIPPER_TASK, status=500, error_code="InternalServerError"))

    make_client(sim).retry_tasks(PROJECT, LOGSTORE, SHIPPER, ["gen-0", "gen-1"])

    assert sim.retried == [(PROJECT, LOGSTORE, SHIPPER, ["gen-0", "gen-1"])]
    assert fake_time.sleeps == [0.5]


def test_retry_tasks_refuses_a_single_string(sls_sim: Any, make_client: MakeClient):
    sim = sls_sim(shipper_scenario(count=1))
    with pytest.raises(TypeError, match="not one string"):
        make_client(sim).retry_tasks(PROJECT, LOGSTORE, SHIPPER, "gen-0")
    assert sim.received == []


# --- ListLogStores / ListShipper ----------------------------------------------------------


def many_names_scenario(logstores: int, shippers: int) -> dict[str, Any]:
    stores = [{"name": f"store-{i:04d}", "shippers": []} for i in range(logstores)]
    stores[0]["shippers"] = [{"name": f"ship-{i:04d}"} for i in range(shippers)]
    return {"projects": [{"name": PROJECT, "logstores": stores}]}


def test_list_logstores_pages(sls_sim: Any, make_client: MakeClient):
    sim = sls_sim(many_names_scenario(logstores=1001, shippers=0))

    names = make_client(sim).list_logstores(PROJECT)

    assert names == [f"store-{i:04d}" for i in range(1001)]
    assert page_requests(sim, API_LIST_LOGSTORES) == [
        ("0", "500"),
        ("500", "500"),
        ("1000", "500"),
    ]


def test_list_shippers_pages(sls_sim: Any, make_client: MakeClient, fake_time: FakeTime):
    sim = sls_sim(many_names_scenario(logstores=1, shippers=501))
    sim.inject(Fault(api=API_LIST_SHIPPER, status=503, error_code="ServerBusy"))

    names = make_client(sim).list_shippers(PROJECT, "store-0000")

    assert names == [f"ship-{i:04d}" for i in range(501)]
    assert page_requests(sim, API_LIST_SHIPPER) == [("0", "500"), ("0", "500"), ("500", "500")]
    assert sim.received[-1].path == "/logstores/store-0000/shipper"
    assert fake_time.sleeps == [0.5]


def test_list_shippers_of_a_missing_logstore(sls_sim: Any, make_client: MakeClient):
    sim = sls_sim(many_names_scenario(logstores=1, shippers=1))
    with pytest.raises(SlsNotFoundError) as caught:
        make_client(sim).list_shippers(PROJECT, "nope")
    assert caught.value.code == "LogStoreNotExist"
    assert len(sim.received) == 1


@pytest.mark.parametrize("project", ["evil.example.com/", "a b", "", "-x"])
def test_a_project_that_would_change_the_host_is_refused(
    sls_sim: Any, make_client: MakeClient, project: str
):
    sim = sls_sim(many_names_scenario(logstores=1, shippers=1))
    with pytest.raises(SlsRequestError) as caught:
        make_client(sim).list_logstores(project)
    assert caught.value.code == "InvalidProjectName"
    assert sim.received == []


# --- IPv6 and localhost -------------------------------------------------------------------


def _ipv6_loopback_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback_available(), reason="no IPv6 loopback")
def test_ipv6_endpoint(sls_sim: Any, make_client: MakeClient, sim_clock: SimClock):
    sim = sls_sim(shipper_scenario(count=4), host="::1")
    assert sim.endpoint == f"http://[::1]:{sim.port}"

    tasks = fetch_all(make_client(sim), sim_clock)

    assert len(tasks) == 4
    (received,) = sim.received
    assert received.headers["host"] == f"{PROJECT}.[::1]:{sim.port}"
    assert received.project == PROJECT
    assert received.authorized


def test_localhost_endpoint_goes_to_localhost_with_the_project_in_host(
    sls_sim: Any, make_client: MakeClient, sim_clock: SimClock
):
    sim = sls_sim(shipper_scenario(count=2))

    tasks = fetch_all(make_client(f"http://localhost:{sim.port}"), sim_clock)

    assert len(tasks) == 2
    (received,) = sim.received
    assert received.headers["host"] == f"{PROJECT}.localhost:{sim.port}"
    assert received.project == PROJECT
    assert received.authorized


# --- secrets ------------------------------------------------------------------------------


def test_no_secret_reaches_the_logs(
    sls_sim: Any,
    make_client: MakeClient,
    sim_clock: SimClock,
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.DEBUG)
    sim = sls_sim(sts_scenario())
    good = Credentials(STS_ID, Secret(STS_SECRET), Secret(STS_TOKEN))
    sim.inject(Fault(status=500, error_code="InternalServerError", times=1))
    sim.inject(Fault(drop=True, times=1))
    client = make_client(sim, credentials=good)
    fetch_all(client, sim_clock)
    client.retry_tasks(PROJECT, LOGSTORE, SHIPPER, ["gen-0"])
    bad = make_client(
        sim, credentials=Credentials(STS_ID, Secret("wrong-secret-xyz"), good.security_token)
    )
    with pytest.raises(SlsAuthError) as caught:
        bad.list_logstores(PROJECT)

    messages = caplog.text + "\n" + str(caught.value) + repr(caught.value.to_json())
    assert "GetShipperStatus" in caplog.text  # the DEBUG request lines were captured
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    # SignatureNotMatch echoes the rejected signature, which opens nothing; the accepted
    # ones must not appear.
    signatures = {
        r.headers["authorization"].rsplit(":", 1)[1] for r in sim.received if r.authorized
    }
    for secret in (STS_SECRET, STS_TOKEN, "wrong-secret-xyz", STS_ID, *signatures):
        assert secret not in messages
