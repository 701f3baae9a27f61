"""Ledger stores: file:// on disk and oss:// against the loopback OSS stand-in.

The stand-in recomputes every signature with the vendor's SDK, refuses conditional PUT
headers as OSS does and honours x-oss-forbid-overwrite, so these tests prove the claim
protocol against what OSS offers.
"""

from __future__ import annotations

import threading
import time

import pytest
from tests import hostile

from shipper_alert.ledger import open_store
from shipper_alert.ledger import oss as oss_store
from shipper_alert.ledger.document import MAX_BYTES, LedgerError
from shipper_alert.ledger.settings import parse
from shipper_alert.ledger.store import Claim
from shipper_alert.redact import Secret
from shipper_alert.sls.credentials import Credentials
from shipper_alert_dev.standins.oss import OssStandIn

NOW = 1795852800.0
KEY_ID = "LTAI-ledger-test"
SECRET = "ledger-secret-value-1234"
TOKEN = "sts-token-for-the-ledger"


@pytest.fixture
def oss():
    with OssStandIn("alert-state", KEY_ID, SECRET, security_token=TOKEN) as standin:
        yield standin


def credentials(secret: str = SECRET) -> Credentials:
    return Credentials(KEY_ID, Secret(secret), Secret(TOKEN))


@pytest.fixture(params=["file", "oss"])
def store(request, tmp_path, oss):
    if request.param == "file":
        settings = parse(f"file://{tmp_path}/ledger", None)
    else:
        settings = parse(f"oss://alert-state/prod/hz?region=cn-hangzhou&endpoint={oss.url}", None)
    opened = open_store(settings, credentials(), lambda: NOW)
    yield opened
    opened.close()


def test_read_replace_create(store):
    assert store.read("state.json") is None
    store.replace("state.json", b'{"a":1}')
    store.replace("state.json", b'{"a":2}')
    assert store.read("state.json") == b'{"a":2}'
    assert store.create("claims/1.0", b"x") is True
    assert store.create("claims/1.0", b"y") is False
    assert store.read("claims/1.0") == b"x"


def test_oss_objects_live_under_the_prefix(oss, tmp_path):
    settings = parse(f"oss://alert-state/prod/hz/?region=cn-hangzhou&endpoint={oss.url}", None)
    store = open_store(settings, credentials(), lambda: NOW)
    store.replace("state.json", b"{}")
    assert list(oss.objects) == ["prod/hz/state.json"]
    put = oss.received[-1]
    assert put.headers["host"] == "alert-state." + oss.url.removeprefix("http://")
    assert put.headers["x-oss-security-token"] == TOKEN
    assert put.headers["content-md5"] == "mZFLkyvTelC5g8XnyQrpOw=="


def test_a_claim_is_won_once_and_taken_over_after_it_expires(store):
    assert store.claim(7, NOW, lease=60) == Claim(7, 0)
    assert store.claim(7, NOW + 30, lease=60) is None  # held by the first
    assert store.claim(7, NOW + 61, lease=60) == Claim(7, 1)  # the first died
    assert store.claim(8, NOW + 61, lease=60) == Claim(8, 0)


def test_overlapping_claims_on_one_generation_have_one_winner(store):
    results = []
    barrier = threading.Barrier(6)

    def contend():
        barrier.wait()
        results.append(store.claim(3, NOW, lease=60))

    threads = [threading.Thread(target=contend) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=repr) == [Claim(3, 0)] + [None] * 5


def test_a_wrong_secret_is_refused_and_the_error_holds_no_secret(oss):
    settings = parse(f"oss://alert-state/p?region=cn-hangzhou&endpoint={oss.url}", None)
    store = open_store(settings, credentials("not-the-secret-at-all"), lambda: NOW)
    with pytest.raises(LedgerError) as caught:
        store.read("state.json")
    assert str(caught.value) == (
        "oss://alert-state/p/state.json: HTTP 403 SignatureDoesNotMatch (request id standin)"
    )


def test_the_stand_in_refuses_a_conditional_put_as_oss_does(oss):
    settings = parse(f"oss://alert-state/p?region=cn-hangzhou&endpoint={oss.url}", None)
    store = open_store(settings, credentials(), lambda: NOW)
    response = store._send("PUT", "state.json", b"{}", {"If-Match": '"abc"'})
    assert response.status_code == 400
    assert b"<Code>NotImplemented</Code>" in response.content


def test_an_unreachable_oss_is_a_ledger_error():
    settings = parse("oss://alert-state/p?region=cn-hangzhou&endpoint=http://127.0.0.1:9", None)
    store = open_store(settings, credentials(), lambda: NOW)
    with pytest.raises(LedgerError, match=r"^oss://alert-state/p/state.json: ConnectionError$"):
        store.read("state.json")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("s3://b/p", "'s3://b/p' is neither oss://bucket/prefix nor file:///folder"),
        (
            "oss://B_ad/p?region=cn-hangzhou",
            "'B_ad' is not an OSS bucket name (3-63 a-z, 0-9 and -)",
        ),
        ("oss://bucket/p", "oss:// needs a region off FC: add ?region=cn-hangzhou"),
        ("oss://bucket/p?regoin=x", "unknown option(s) regoin; oss:// takes region, endpoint"),
        (
            "oss://bucket/p?region=cn-hangzhou&endpoint=http://oss.example.com",
            "endpoint 'http://oss.example.com' must be https:// (http:// only to loopback)",
        ),
        ("file://relative/x", "'file://relative/x': a file URL is file:///absolute/folder"),
    ],
)
def test_bad_state_urls_name_the_problem(url, problem):
    with pytest.raises(ValueError, match=r".") as caught:
        parse(url, None)
    assert str(caught.value) == problem


def test_on_fc_the_region_gives_the_internal_endpoint():
    settings = parse("oss://bucket/alerts", "cn-shanghai")
    assert (settings.bucket, settings.prefix, settings.endpoint) == (
        "bucket",
        "alerts",
        "oss-cn-shanghai-internal.aliyuncs.com",
    )


@pytest.fixture
def hostile_oss():
    """An OSS endpoint played by a hostile server, and a store that reads from it."""
    servers = []

    def start(behaviour):
        server = hostile.HostileServer(behaviour).start()
        servers.append(server)
        endpoint = f"http://127.0.0.1:{server.port}"
        settings = parse(f"oss://alert-state/p?region=cn-hangzhou&endpoint={endpoint}", None)
        return open_store(settings, credentials(), lambda: NOW)

    yield start
    for server in servers:
        server.stop()


def test_an_oss_reply_trickled_byte_by_byte_ends_at_the_exchange_deadline(hostile_oss, monkeypatch):
    monkeypatch.setattr(oss_store, "REQUEST_TIMEOUT", 0.6)
    store = hostile_oss(hostile.trickle(hostile.response(b"{}" * 1000), interval=0.05))
    started = time.monotonic()
    with pytest.raises(LedgerError) as caught:
        store.read("state.json")
    assert str(caught.value) == "oss://alert-state/p/state.json: no complete reply within 0.6s"
    assert time.monotonic() - started < 5  # the promise: not the trickle's 100 s


def test_an_oss_reply_larger_than_the_ledger_cap_is_refused(hostile_oss):
    store = hostile_oss(hostile.endless())
    with pytest.raises(LedgerError) as caught:
        store.read("state.json")
    assert str(caught.value) == (
        f"oss://alert-state/p/state.json: reply larger than the {MAX_BYTES} bytes accepted"
    )
