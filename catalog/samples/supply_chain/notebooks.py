"""Supply chain example notebooks: device failure rates by supplier, carrier punctuality, stock-out risk.

IoT, logistics, procurement and planning products joined across domains.
"""

from __future__ import annotations

from typing import Any

NOTEBOOKS: list[dict[str, Any]] = [
    {
        "title": "Device failure rates by supplier",
        "description": "Shipments carry IoT trackers; a tracker out of service (maintenance or retired) "
                       "is a failure. Which suppliers' shipments ride on failing trackers, and which "
                       "device types fail most?",
        "role": "analyst",
        "cells": [
            {"title": "The 20 suppliers with the most failed trackers",
             "source": "SELECT su.name || ' (' || su.supplier_id || ')' AS supplier,\n       'tier ' || su.tier AS tier,\n       count(*) AS shipments,\n"
                       "       round(100.0 * count(*) FILTER (WHERE d.status <> 'active') / count(*), 1) "
                       "AS failed_tracker_pct\nFROM logistics.shipments AS sh\n"
                       "JOIN procurement.purchase_orders AS po ON po.po_id = sh.purchase_order_id\n"
                       "JOIN procurement.suppliers AS su ON su.supplier_id = po.supplier_id\n"
                       "JOIN iot.devices AS d ON d.device_id = sh.tracker_device_id\nGROUP BY ALL\n"
                       "ORDER BY failed_tracker_pct DESC, shipments DESC\nLIMIT 20",
             "chart": {"mark": "bar", "x": "failed_tracker_pct", "y": "supplier", "color": "tier"}},
            {"title": "Device status per type",
             "source": "SELECT device_type, status, count(*) AS devices\nFROM iot.device_health\n"
                       "GROUP BY ALL",
             "chart": {"mark": "bar", "x": "device_type", "y": "devices", "color": "status"}},
            {"title": "Battery and temperature of devices per warehouse",
             "source": "SELECT w.city, h.avg_battery_pct, h.max_temperature_c, h.status\n"
                       "FROM iot.device_health AS h\nJOIN inventory.warehouses AS w USING (warehouse_id)",
             "chart": {"mark": "point", "x": "avg_battery_pct", "y": "max_temperature_c", "color": "status"}},
        ],
    },
    {
        "title": "Carriers and stock-outs",
        "description": "On-time delivery per carrier against its target, and the warehouses whose stock "
                       "will run out before inbound shipments arrive.",
        "role": "analyst",
        "cells": [
            {"title": "On-time delivery against target",
             "source": "SELECT carrier_name, on_time_pct, on_time_target_pct\n"
                       "FROM planning.carrier_performance\nORDER BY on_time_pct",
             "chart": {"mark": "bar", "x": "carrier_name", "y": "on_time_pct"}},
            {"title": "Stock-out risk per warehouse",
             "source": "SELECT w.city, r.risk, count(*) AS skus, CAST(sum(r.shortfall) AS BIGINT) AS shortfall\n"
                       "FROM planning.stockout_risk AS r\nJOIN inventory.warehouses AS w USING (warehouse_id)\n"
                       "GROUP BY ALL\nORDER BY shortfall DESC",
             "chart": {"mark": "bar", "x": "city", "y": "shortfall", "color": "risk"}},
            {"title": "Deliveries per week",
             "source": "SELECT date_trunc('week', delivered_at) AS week, count(*) AS delivered\n"
                       "FROM logistics.shipments\nWHERE delivered_at IS NOT NULL\nGROUP BY ALL\nORDER BY week",
             "chart": {"mark": "line", "x": "week", "y": "delivered"}},
        ],
    },
]
