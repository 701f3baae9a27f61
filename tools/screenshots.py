"""Regenerate the email screenshots of the README ("How to read an alert"): the sample
alert (shipper_alert_dev.samples) at a 900 px desktop pane and a 390 px phone, first
screen only, as docs/email-900.png and docs/email-390.png. Needs Debian's `chromium`.

    make screenshots
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import screenshot

from shipper_alert_dev.samples import sample_email_html

DOCS = Path(__file__).resolve().parents[1] / "docs"
VIEWPORTS = ((900, 700), (390, 664))  # desktop pane; phone less the mail app's bars


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "email.html"
        page.write_text(sample_email_html(), encoding="utf-8")
        for width, height in VIEWPORTS:
            out = DOCS / f"email-{width}.png"
            try:
                screenshot.shot(page, out, width, height)
            except screenshot.ChromiumMissing as missing:
                print(missing, file=sys.stderr)
                return 2
            print(f"{out.relative_to(DOCS.parent)}: {width}x{height}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
