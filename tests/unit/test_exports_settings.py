"""EXPORTS, DIAGNOSTIC_LOGSTORE and the two export thresholds, read through load_settings."""

from __future__ import annotations

import pytest

from shipper_alert.config import load_settings
from shipper_alert.errors import ConfigError
from shipper_alert.exports_settings import DiagnosticLogstore, ExportRef

BASE = {
    "SLS_ENDPOINT": "cn-hangzhou.log.aliyuncs.com",
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "id",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "secret",
    "DRY_RUN": "true",
}


def problems(env) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    return raised.value.problems


def test_exports_alone_are_a_valid_deployment_with_the_contract_defaults():
    settings = load_settings(dict(BASE, EXPORTS="shop-prod/export-a, shop-prod/*"))

    assert settings.shippers == ()
    exports = settings.exports
    assert exports.exports == (ExportRef("shop-prod", "export-a"), ExportRef("shop-prod", "*"))
    assert exports.exports[1].is_pattern
    assert exports.lag_threshold == 300
    assert exports.failed_rows_threshold == 1
    assert exports.diagnostics_for("shop-prod") == DiagnosticLogstore(
        "shop-prod", "internal-diagnostic_log"
    )


def test_every_export_variable_is_read():
    env = dict(
        BASE,
        SHIPPERS="p-a/logs/ship",
        EXPORTS="shop-prod/Export_B",
        DIAGNOSTIC_LOGSTORE="log-service-123-cn-hangzhou/internal-diagnostic_log",
        EXPORT_LAG_THRESHOLD="10m",
        EXPORT_FAILED_ROWS_THRESHOLD="50",
    )
    exports = load_settings(env).exports

    assert exports.lag_threshold == 600
    assert exports.failed_rows_threshold == 50
    assert str(exports.diagnostics_for("shop-prod")) == (
        "log-service-123-cn-hangzhou/internal-diagnostic_log"
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {},
            [
                "SHIPPERS: no shipper to watch: set SHIPPERS or SLS_PROJECT, SLS_LOGSTORE and"
                " SLS_SHIPPER (or EXPORTS for export jobs)"
            ],
        ),
        ({"EXPORTS": "shop-prod"}, ["EXPORTS: 'shop-prod' is not project/job (or project/*)"]),
        (
            {"EXPORTS": "Shop/job"},
            [
                "EXPORTS: 'Shop/job': project 'Shop' is not a valid SLS project name (3-63"
                " lower-case letters, digits and hyphens, starting and ending with a letter or"
                " digit)"
            ],
        ),
        (
            {"EXPORTS": "shop-prod/a.b"},
            [
                "EXPORTS: 'shop-prod/a.b': job 'a.b' is not a valid SLS job name (2-64"
                " letters, digits, hyphens and underscores, starting and ending with a letter"
                " or digit)"
            ],
        ),
        (
            {"EXPORTS": "shop-prod/job-a", "DIAGNOSTIC_LOGSTORE": "internal-diagnostic_log"},
            ["DIAGNOSTIC_LOGSTORE: 'internal-diagnostic_log' is not project/logstore"],
        ),
        (
            {"EXPORTS": "shop-prod/job-a", "EXPORT_FAILED_ROWS_THRESHOLD": "0"},
            ["EXPORT_FAILED_ROWS_THRESHOLD: 0 is outside 1..1000000000000"],
        ),
        (
            {"EXPORTS": "shop-prod/job-a", "EXPORT_LAG_THRESHOLD": "soon"},
            ["EXPORT_LAG_THRESHOLD: 'soon' is not a duration (use 90, 90s, 5m, 1h30m or 2d)"],
        ),
    ],
)
def test_bad_values_are_named(env, expected):
    assert problems(dict(BASE, **env)) == expected
