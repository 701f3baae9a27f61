"""The long oracle: `python tools/oracle.py [--seeds N] [--hours H]`, both modes, a table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from shipper_alert_dev.oracle import simulate

SETTINGS = {
    "defaults": {},
    "grace 1h": {"FAIL_GRACE": "1h"},
    "remind 5m": {"REMIND_INTERVAL": "5m"},
    "remind 0": {"REMIND_INTERVAL": "0"},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--hours", type=int, default=24)
    args = parser.parse_args()
    for clean in (False, True):
        for name, env in SETTINGS.items():
            print(f"== {name} {env}{' clean timeline' if clean else ''}")
            for mode in ("ledger", "stateless"):
                for seed in range(args.seeds):
                    score = simulate(seed, mode, args.hours, env, clean)
                    print(score.row(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
