"""Incidents: one per (product, cause), with a lifecycle new → acknowledged → assigned → resolved.

The monitor opens them (`IncidentDesk.observe`): a failing error-severity check, a missed freshness SLA or a
volume anomaly. They resolve themselves when the cause passes again and reopen if it recurs; people move them
along (acknowledge, assign, annotate, resolve) through `catalog.access.authority`, and every transition is a
row of the incident's append-only history.
"""

from catalog.incidents.desk import STATES, Finding, IncidentDesk, Transition

__all__ = ["STATES", "Finding", "IncidentDesk", "Transition"]
