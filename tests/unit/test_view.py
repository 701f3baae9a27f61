import random

import pytest

import factories
from shipper_alert.notify.base import Outgoing, fit
from shipper_alert.view import Limits, build_view


def render(view):
    """A stand-in channel: one line per shown item, plus the left-out count."""
    lines = [f"{view.report.totals.failed} failed"]
    for s in view.shippers:
        lines.append(f"# {s.report.ref}")
        for g in s.groups:
            lines.append(f"{g.count}x {g.message}")
            lines.extend(f"- {t.id}" for t in g.tasks)
        lines.extend(f"stuck {t.id}" for t in s.stuck)
    if view.hidden_items:
        lines.append(f"and {view.hidden_items} more")
    if view.parts > 1:
        lines.append(f"part {view.part}/{view.parts}")
    text = "\n".join(lines)
    return Outgoing("test", "t", text, {"text": text})


def size_limit(limit):
    return lambda out: len(out.text.encode()) <= limit


def test_everything_is_shown_when_it_fits():
    report = factories.report(factories.shipper(failures=factories.many_failures(5)))
    (out,) = fit(report, render, size_limit(10_000))
    assert "and " not in out.text
    assert out.text.count("\n- ") == 5


def test_task_lines_are_cut_first_and_the_count_of_what_is_left_out_is_exact():
    report = factories.report(factories.shipper(failures=factories.many_failures(500)))
    (out,) = fit(report, render, size_limit(2_000))
    assert len(out.text.encode()) <= 2_000
    shown = out.text.count("\n- ")
    assert 0 < shown < 500
    assert out.text.startswith("500 failed")
    assert f"and {500 - shown} more" in out.text
    assert out.text.count("x UnAuthorized") == 3  # every group is still there


def test_groups_are_cut_when_even_their_summary_does_not_fit():
    report = factories.report(
        factories.shipper(failures=factories.many_failures(300, messages=300))
    )
    (out,) = fit(report, render, size_limit(1_500))
    assert len(out.text.encode()) <= 1_500
    hidden = int(out.text.split("\nand ")[1].split(" more")[0])
    assert hidden == 300 - out.text.count("\n- ")
    view = build_view(report, Limits(tasks=0, groups=2))
    assert view.shippers[0].hidden_groups == 298
    assert view.shippers[0].hidden_group_tasks == 298


def test_split_only_when_one_message_cannot_hold_every_shipper():
    shippers = [
        factories.shipper(f"proj-a/l{i:02d}/s", failures=[factories.failed(f"t{i}")])
        for i in range(40)
    ]
    report = factories.report(*shippers)
    messages = fit(report, render, size_limit(300))
    assert len(messages) > 1
    assert all(len(m.text.encode()) <= 300 for m in messages)
    shown = [line for m in messages for line in m.text.splitlines() if line.startswith("# ")]
    assert len(shown) == 40  # every shipper in exactly one part
    assert len(set(shown)) == 40
    assert all(f"part {i}/{len(messages)}" in m.text for i, m in enumerate(messages, 1))
    assert all(m.text.startswith("40 failed") for m in messages)  # totals in every part


@pytest.mark.parametrize("limit", [400, 800, 1600, 3200, 100_000])
def test_counts_are_never_wrong_whatever_the_limit(limit):
    report = factories.report(
        factories.shipper("proj-a/a/s", failures=factories.many_failures(120)),
        factories.shipper(
            "proj-a/b/s",
            failures=factories.many_failures(30),
            stuck_tasks=[factories.stuck(f"st{i}") for i in range(20)],
        ),
    )
    shown = hidden = 0
    for out in fit(report, render, size_limit(limit)):
        assert out.text.startswith("150 failed")
        shown += out.text.count("\n- ") + out.text.count("\nstuck ")
        if "\nand " in out.text:
            hidden += int(out.text.split("\nand ")[1].split(" more")[0])
    assert shown + hidden == 170  # 150 failed + 20 stuck, over all parts


@pytest.mark.parametrize("limit", [300, 2_000, 9_000])
def test_usage_aims_the_search_and_chooses_exactly_what_bisection_chooses(limit):
    shippers = [
        factories.shipper(f"proj-a/l{i:02d}/s", failures=factories.many_failures(60))
        for i in range(12)
    ]
    report = factories.report(*shippers)
    renders = {"bisect": 0, "aimed": 0}

    def counted(kind):
        def counting(view):
            renders[kind] += 1
            return render(view)

        return counting

    bisected = fit(report, counted("bisect"), size_limit(limit))
    aimed = fit(
        report, counted("aimed"), size_limit(limit), lambda out: len(out.text.encode()) / limit
    )
    assert [m.text for m in aimed] == [m.text for m in bisected]
    assert renders["aimed"] < renders["bisect"]


def test_a_long_report_is_searched_from_below_never_rendering_far_more_than_fits():
    report = factories.report(
        *(
            factories.shipper(f"proj-a/l{i:02d}/s", failures=factories.many_failures(200))
            for i in range(10)
        )
    )
    limit = 3_000
    rendered = []

    def counting(view):
        rendered.append(sum(len(g.tasks) for s in view.shippers for g in s.groups))
        return render(view)

    usage = lambda out: len(out.text.encode()) / limit  # noqa: E731
    (out,) = fit(report, counting, size_limit(limit), usage)
    (bisected,) = fit(report, render, size_limit(limit))
    assert out.text == bisected.text
    shown = out.text.count("\n- ")
    assert 0 < shown < 2_000
    assert max(rendered) <= 2 * shown + 16  # never the 2,000 lines of the whole report
    assert len(rendered) <= 8


@pytest.mark.parametrize("limit", [200, 1_500, 4_000, 30_000])
def test_a_long_report_starts_from_its_summary_and_splits_at_once_when_that_is_too_big(limit):
    report = factories.report(
        *(
            factories.shipper(f"proj-a/l{i:02d}/s", failures=factories.many_failures(30))
            for i in range(12)
        )
    )
    rendered = []

    def counting(view):
        rendered.append(view)
        return render(view)

    usage = lambda out: len(out.text.encode()) / limit  # noqa: E731
    aimed = fit(report, counting, size_limit(limit), usage)
    assert [m.text for m in aimed] == [m.text for m in fit(report, render, size_limit(limit))]
    first = rendered[0]
    assert (len(first.shippers), first.parts) == (12, 1)
    assert all(not s.groups for s in first.shippers)  # the summary: no group, no task line
    whole = [v for v in rendered if v.parts == 1 and len(v.shippers) == 12]
    if len(aimed) > 1:  # the summary did not fit: nothing else of the whole report tried
        assert len(whole) == 1
    else:
        assert len(whole) > 1


@pytest.mark.parametrize("seed", range(40))
def test_the_aimed_search_finds_the_largest_n_that_fits_whatever_the_usage(seed):
    """Usage that is linear, stepped, flat or noisy only aims: the answer is bisection's."""
    from shipper_alert.notify.base import _Search  # noqa: PLC0415 - the search itself

    pick = random.Random(seed)
    top = pick.choice([0, 1, 5, 40, 300, 2_500])
    answer = pick.randint(-1, top)  # -1: nothing fits
    shape = pick.choice(["linear", "steps", "flat", "noisy"])

    def usage_of(n: int) -> float:
        base = {"linear": n, "steps": n // 10 * 10, "flat": 0, "noisy": n + pick.random() * 30}
        return 0.3 + base[shape] / max(top, 1)

    made = []

    def make(n: int) -> Outgoing:
        made.append(n)
        return Outgoing("t", "t", str(n), {"n": n, "usage": usage_of(n)})

    search = _Search(lambda out: out.payload["n"] <= answer, lambda out: out.payload["usage"])
    n, out, _ = search.largest_n(make, top, None)
    assert n == answer
    assert (out is None) == (answer == -1)
    assert len(made) <= 4 * (top.bit_length() + 2)
