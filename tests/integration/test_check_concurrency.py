"""Shipper readers outnumber request slots; the requests in flight never do."""

from __future__ import annotations

import threading

from shipper_alert import check
from shipper_alert.budget import Deadline
from shipper_alert.config import Rules
from shipper_alert.models import ShipperRef, Window
from shipper_alert.sls import connections

SHIPPERS = 12
SLOTS = 3


def scenario() -> dict:
    task = {"id": "t", "created": "-10m", "status": "fail", "finished": "-3m", "message": "x"}
    shippers = [{"name": f"s{i:02d}", "tasks": [task]} for i in range(SHIPPERS)]
    return {
        "projects": [{"name": "p", "logstores": [{"name": "logs", "shippers": shippers}]}],
        # Every reply waits, so that readers pile up on the slots.
        "faults": [{"latency": 0.05, "times": None}],
    }


def test_twice_as_many_readers_as_slots_and_never_more_requests_than_slots(
    sls_sim, sim_clock, sim_client, monkeypatch
):
    sim = sls_sim(scenario())
    lock = threading.Lock()
    in_flight, peak, readers = [0], [0], set()
    exchange = connections.ConnectionPool.exchange
    read_shipper = check._read_shipper

    def counted_exchange(self, *args, **kwargs):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        try:
            return exchange(self, *args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    def named_read(*args, **kwargs):
        with lock:
            readers.add(threading.current_thread().name)
        return read_shipper(*args, **kwargs)

    monkeypatch.setattr(connections.ConnectionPool, "exchange", counted_exchange)
    monkeypatch.setattr(check, "_read_shipper", named_read)
    now = sim_clock.now()
    window = Window(int(now) - 360, int(now) - 60)
    refs = [ShipperRef("p", "logs", f"s{i:02d}") for i in range(SHIPPERS)]
    with sim_client(sim, deadline=Deadline(60), pool_size=SLOTS) as client:
        reports = check.run_checks(client, refs, window, Rules(), now, workers=SLOTS)

    assert [r.failed for r in reports] == [1] * SHIPPERS
    assert [str(r.ref) for r in reports] == [str(ref) for ref in refs]
    assert len(readers) == SLOTS * check.READERS_PER_SLOT == 6
    assert peak[0] == SLOTS
