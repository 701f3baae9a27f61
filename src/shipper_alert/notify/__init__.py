"""Notification channels, their common seam and the delivery stage."""
