"""The email's bar chart of a target's history, as an HTML table.

A table, not an image: mail clients block or strip images (data: URIs are dropped by Gmail,
and Outlook shows remote and attached images only after a click), while a table of
coloured cells with fixed heights renders in Gmail, Outlook's Word engine, Apple Mail and
phone clients alike, needs no attachment, and stays readable with images off. Widths are
percentages, so the chart fits a 390 px phone as well as a 900 px desktop pane; each bar
has a `title` with its counts, and a caption under it says what the bars cover.
"""

from __future__ import annotations

import html
from datetime import tzinfo

from shipper_alert.history import Bucket, History, clock, span_label

HEIGHT = 48  # px, of the busiest interval's bar
COLUMN = HEIGHT + 4  # px, room for the rounding up of the smallest parts
FAILED_COLOUR = "#d93025"
SUCCEEDED_COLOUR = "#1e8e3e"
EMPTY_COLOUR = "#dadce0"


def _cell(height: int, colour: str | None) -> str:
    background = f' bgcolor="{colour}" style="background:{colour};' if colour else ' style="'
    return (
        f'<tr><td height="{height}"{background}height:{height}px;'
        'font-size:0;line-height:0;padding:0;border:0">&nbsp;</td></tr>'
    )


def _scaled(count: int, peak: int) -> int:
    if count <= 0 or peak <= 0:
        return 0
    return max(2, round(count / peak * HEIGHT))  # a single task still shows


def _bar(bucket: Bucket, peak: int, label: str) -> str:
    """One column: failed stacked on succeeded, both on the scale of the busiest interval,
    a grey line where no task finished, a spacer on top so that every column is as tall.
    """
    if bucket.empty:
        parts = [(1, EMPTY_COLOUR)]
    else:
        parts = [
            (height, colour)
            for height, colour in (
                (_scaled(bucket.failed, peak), FAILED_COLOUR),
                (_scaled(bucket.succeeded, peak), SUCCEEDED_COLOUR),
            )
            if height
        ]
    spacer = COLUMN - sum(height for height, _ in parts)
    rows = ([_cell(spacer, None)] if spacer > 0 else []) + [_cell(h, c) for h, c in parts]
    title = html.escape(f"{label}: {bucket.failed} failed, {bucket.succeeded} succeeded")
    return (
        f'<td valign="bottom" title="{title}" style="padding:0 1px;border:0">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">'
        + "".join(rows)
        + "</table></td>"
    )


def html_chart(h: History, tz: tzinfo, tz_name: str) -> str:
    """The chart of one target: a row of bars and a caption, inline styles only."""
    peak = max((b.failed + b.succeeded for b in h.buckets), default=0)
    bars = "".join(_bar(b, peak, f"{clock(b.start, tz)} {tz_name}") for b in h.buckets)
    summary = html.escape(
        f"{h.target}: {h.failed} failed, {h.succeeded} succeeded; {span_label(h, tz, tz_name)}"
    )
    legend = (
        f'<span style="color:{FAILED_COLOUR}">&#9632; failed</span> '
        f'<span style="color:{SUCCEEDED_COLOUR}">&#9632; succeeded</span>'
    )
    return (
        f'<table role="img" aria-label="{summary}" width="100%" cellpadding="0" '
        'cellspacing="0" border="0" style="max-width:600px;table-layout:fixed;'
        'border-collapse:collapse;margin:4px 0 8px">'
        f"<tr>{bars}</tr>"
        f'<tr><td colspan="{len(h.buckets)}" style="font:12px/1.4 Arial,sans-serif;'
        f'color:#5f6368;padding:4px 0 0;border:0">{legend} · {summary}</td></tr></table>'
    )
