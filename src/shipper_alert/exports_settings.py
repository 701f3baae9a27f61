"""The export-job variables (contract, "Export jobs"): which jobs, where their logs are, limits.

`read(reader)` takes config.py's variable reader, so problems are collected with every
other variable's and `validate` shows the effective values.
Project, job and logstore names follow `shipper_alert.validation`'s SLS name rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shipper_alert.models import WILDCARD
from shipper_alert.validation import name_problem

EXPORTS = "EXPORTS"
DIAGNOSTIC_LOGSTORE = "DIAGNOSTIC_LOGSTORE"
EXPORT_LAG_THRESHOLD = "EXPORT_LAG_THRESHOLD"
EXPORT_FAILED_ROWS_THRESHOLD = "EXPORT_FAILED_ROWS_THRESHOLD"
VARIABLES = (EXPORTS, DIAGNOSTIC_LOGSTORE, EXPORT_LAG_THRESHOLD, EXPORT_FAILED_ROWS_THRESHOLD)

DEFAULT_DIAGNOSTIC_LOGSTORE = "internal-diagnostic_log"
DEFAULT_LAG_THRESHOLD = 300  # Alibaba's export delay alert template: lags >= 300
DEFAULT_FAILED_ROWS_THRESHOLD = 1


@dataclass(frozen=True, order=True)
class ExportRef:
    """One export job, `project/job`; job `*` means every export job of the project."""

    project: str
    job: str

    @property
    def is_pattern(self) -> bool:
        return self.job == WILDCARD

    def __str__(self) -> str:
        return f"{self.project}/{self.job}"

    def to_json(self) -> dict[str, str]:
        return {"project": self.project, "job": self.job}

    @classmethod
    def parse(cls, text: str) -> ExportRef:
        project, slash, job = text.partition("/")
        if not slash or not project or not job or "/" in job:
            raise ValueError(f"{text!r} is not project/job (or project/*)")
        problem = name_problem("project", project)
        if problem is None and job != WILDCARD:
            problem = name_problem("job", job)
        if problem:
            raise ValueError(f"{text!r}: {problem}")
        return cls(project, job)


@dataclass(frozen=True)
class DiagnosticLogstore:
    project: str
    logstore: str

    def __str__(self) -> str:
        return f"{self.project}/{self.logstore}"


@dataclass(frozen=True)
class ExportSettings:
    exports: tuple[ExportRef, ...] = ()
    diagnostic_logstore: DiagnosticLogstore | None = None  # None: the job's own project
    lag_threshold: int = DEFAULT_LAG_THRESHOLD
    failed_rows_threshold: int = DEFAULT_FAILED_ROWS_THRESHOLD

    def diagnostics_for(self, project: str) -> DiagnosticLogstore:
        """Where the operational logs of `project`'s jobs are read from."""
        return self.diagnostic_logstore or DiagnosticLogstore(project, DEFAULT_DIAGNOSTIC_LOGSTORE)


def read(reader: Any) -> ExportSettings:
    """The export settings; problems go to `reader.problem(name, text)`."""
    refs: list[ExportRef] = []
    for item in reader.items(EXPORTS):
        try:
            ref = ExportRef.parse(item)
        except ValueError as exc:
            reader.problem(EXPORTS, str(exc))
            continue
        if ref not in refs:
            refs.append(ref)
    diagnostic = None
    text = reader.text(DIAGNOSTIC_LOGSTORE)
    if text is not None:
        project, slash, logstore = text.partition("/")
        if not slash or name_problem("project", project) or name_problem("logstore", logstore):
            reader.problem(DIAGNOSTIC_LOGSTORE, f"{text!r} is not project/logstore")
        else:
            diagnostic = DiagnosticLogstore(project, logstore)
    lag = reader.duration(EXPORT_LAG_THRESHOLD, DEFAULT_LAG_THRESHOLD, minimum=1)
    failed = reader.integer(EXPORT_FAILED_ROWS_THRESHOLD, DEFAULT_FAILED_ROWS_THRESHOLD, 1, 10**12)
    return ExportSettings(
        exports=tuple(refs),
        diagnostic_logstore=diagnostic,
        lag_threshold=lag if lag is not None else DEFAULT_LAG_THRESHOLD,
        failed_rows_threshold=failed if failed is not None else DEFAULT_FAILED_ROWS_THRESHOLD,
    )
