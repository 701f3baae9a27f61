"""A local Alibaba Cloud Log Service (SLS) for tests and demos.

`SlsSimulator` serves GetShipperStatus, RetryShipperTask, ListShipper and ListLogStores on a
loopback port from a `Scenario` (projects, logstores, shippers and task histories that
play out against a `SimClock`), checks v1 signatures like SLS does, and misbehaves on
request through injected `Fault`s. `python -m shipper_alert sim` runs it from the command
line (sim/cli.py).

    with SlsSimulator({"projects": [...]}, clock=SimClock(1764316800)) as sim:
        client = ...(endpoint=sim.endpoint, DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET)
        sim.inject(Fault(status=500, error_code="InternalServerError", times=2))
"""

from shipper_alert_dev.sim.apierror import ApiError
from shipper_alert_dev.sim.clock import Clock, RealClock, SimClock
from shipper_alert_dev.sim.faults import (
    API_GET_SHIPPER_STATUS,
    API_LIST_LOGSTORES,
    API_LIST_SHIPPER,
    API_RETRY_SHIPPER_TASK,
    APIS,
    ArmedFault,
    Fault,
    FaultError,
)
from shipper_alert_dev.sim.scenario import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    Credential,
    LogstoreSpec,
    ProjectSpec,
    Scenario,
    ScenarioError,
    ShipperSpec,
    TaskSpec,
    TaskState,
    TaskView,
    parse_duration,
    parse_instant,
)
from shipper_alert_dev.sim.server import ReceivedRequest, SlsSimulator

__all__ = [
    "APIS",
    "API_GET_SHIPPER_STATUS",
    "API_LIST_LOGSTORES",
    "API_LIST_SHIPPER",
    "API_RETRY_SHIPPER_TASK",
    "DEFAULT_ACCESS_KEY_ID",
    "DEFAULT_ACCESS_KEY_SECRET",
    "ApiError",
    "ArmedFault",
    "Clock",
    "Credential",
    "Fault",
    "FaultError",
    "LogstoreSpec",
    "ProjectSpec",
    "RealClock",
    "ReceivedRequest",
    "Scenario",
    "ScenarioError",
    "ShipperSpec",
    "SimClock",
    "SlsSimulator",
    "TaskSpec",
    "TaskState",
    "TaskView",
    "parse_duration",
    "parse_instant",
]
