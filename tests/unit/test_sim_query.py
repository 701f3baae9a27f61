"""The simulator's query engine: filters, JSON sub-keys, aggregates, and refusals."""

from __future__ import annotations

import json

import pytest

from shipper_alert_dev.sim.query import QueryError, run_query


def row(job: str, state: int, failed: int, error: str | None = None, at: int = 60):
    metrics = {"state": state, "failed": failed, **({"error": error} if error else {})}
    return {
        "__time__": str(at),
        "__topic__": "etl_metrics",
        "job_name": job,
        "_etl_:connector_metrics": json.dumps(metrics),
    }


ROWS = [row("a", 0, 1), row("a", 2, 3, "boom", at=120), row("b", 1, 0, "slow")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("__topic__: etl_metrics", 3),
        ('(__topic__: etl_metrics and "_etl_:connector_metrics.state" > 0)', 2),
        ('"_etl_:connector_metrics.state" >= 2', 1),
        ("job_name: b", 1),
        ("*", 3),
    ],
)
def test_search_filters(query, expected):
    rows, has_sql = run_query(query, ROWS)
    assert (len(rows), has_sql) == (expected, False)


def test_sql_groups_and_aggregates_as_strings():
    rows, has_sql = run_query(
        '* | select job_name, count(*) as cnt, sum("_etl_:connector_metrics.failed") as failed,'
        ' max(__time__) as last, array_agg(distinct "_etl_:connector_metrics.error") as errors,'
        ' "_etl_:connector_metrics.error" as first_error from log group by job_name limit 10',
        ROWS,
    )
    assert has_sql
    assert rows == [
        {"job_name": "a", "cnt": "2", "failed": "4", "last": "120", "errors": '["boom"]',
         "first_error": "null"},
        {"job_name": "b", "cnt": "1", "failed": "0", "last": "60", "errors": '["slow"]',
         "first_error": "slow"},
    ]  # fmt: skip


@pytest.mark.parametrize(
    "query",
    ["job_name ~ a", "* | select job_name from elsewhere", "* | select median(x) from log"],
)
def test_what_the_engine_does_not_know_is_a_query_error(query):
    with pytest.raises(QueryError, match="invalid query"):
        run_query(query, ROWS)
