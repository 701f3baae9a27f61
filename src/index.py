"""Function Compute entry point: handler string `index.handler`."""

from shipper_alert.handler import handler

__all__ = ["handler"]
