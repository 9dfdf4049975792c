"""The monitor: run each product's checks on its schedule, judge freshness and volume, open and resolve
incidents, and hand what changed to the notifier (`Monitor.run_once`; `meshwork monitor` loops over it)."""

from catalog.monitor.monitor import Monitor, MonitorPass

__all__ = ["Monitor", "MonitorPass"]
