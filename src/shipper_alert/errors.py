"""The exception tree of shipper-alert.

    ShipperAlertError
    ├── ConfigError        the environment is invalid (carries every problem at once)
    ├── EventError         the invocation event is invalid
    ├── SlsError           reading or writing SLS failed (tree in shipper_alert.sls.errors)
    └── NotDeliveredError  there was something to send and no channel delivered it

`ConfigError` and `EventError` are raised before any request is sent. Messages never
contain a secret's value: they name the variable instead.
"""

from __future__ import annotations


class ShipperAlertError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(ShipperAlertError):
    """One or more configuration problems, each naming its variable."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = (
            "invalid configuration" if count == 1 else f"invalid configuration ({count} problems)"
        )
        super().__init__(head + ": " + "; ".join(self.problems))


class EventError(ShipperAlertError):
    """The invocation event cannot be used; the message says what is wrong with it."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"invalid event: {problem}")


class NotDeliveredError(ShipperAlertError):
    """Raised by the handler so that FC records a failed invocation.

    Carries the result JSON so that the command line can still print it.
    """

    def __init__(self, message: str, result_json: str) -> None:
        self.result_json = result_json
        super().__init__(message)
