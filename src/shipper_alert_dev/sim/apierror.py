"""The simulator's SLS error answer, shared by the shipper and export-job routes."""

from __future__ import annotations


class ApiError(Exception):
    """An SLS error answer: HTTP status plus `{"errorCode", "errorMessage"}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
