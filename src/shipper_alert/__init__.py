"""shipper-alert: alerts on failed Alibaba Cloud SLS LogShipper tasks, from Function Compute."""

__version__ = "0.1.0"
