"""Run one invocation of the FC handler as FC would, in this (child) process.

Reads the event from argv[1] and FC's timeout from argv[2]; logs at DEBUG to stderr;
prints one JSON line: the time `handler` took, the process's peak RSS, and the result
(or the error it raised). Exits without waiting for abandoned daemon threads.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import sys
import time
from types import SimpleNamespace


def peak_rss_kb() -> int:
    """This process's peak resident set (VmHWM). Unlike ru_maxrss, it starts afresh at
    exec, so the forking parent's size does not count."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    logging.basicConfig(
        level=logging.DEBUG,
        stream=sys.stderr,
        format="%(relativeCreated)6.0fms %(levelname)s %(name)s: %(message)s",
    )
    from shipper_alert.errors import NotDeliveredError  # noqa: PLC0415
    from shipper_alert.handler import handler  # noqa: PLC0415

    event, timeout = sys.argv[1].encode(), float(sys.argv[2])
    context = SimpleNamespace(
        function=SimpleNamespace(timeout=timeout, name="shipper-alert"),
        request_id="adversarial",
        credentials=None,
    )
    started = time.monotonic()
    error = None
    try:
        result = json.loads(handler(event, context))
    except NotDeliveredError as exc:
        result, error = json.loads(exc.result_json), str(exc)
    except Exception as exc:  # reported, so the test can show what escaped
        result, error = None, f"{type(exc).__name__}: {exc}"
    elapsed = time.monotonic() - started
    peak_kb = peak_rss_kb()
    print(json.dumps({"elapsed": elapsed, "peak_kb": peak_kb, "result": result, "error": error}))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
