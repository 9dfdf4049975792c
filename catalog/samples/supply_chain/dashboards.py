"""Supply chain sample dashboards: device failures by supplier (iot) and stock-outs (planning).

Each entry is `<domain>.<name>` -> the YAML a person would write. Driver names on shipments are
personal data, masked for analysts.
"""

from __future__ import annotations

from typing import Any

from catalog.samples.supply_chain.sources import NOAH, SAM

DASHBOARDS: dict[str, dict[str, Any]] = {
    "iot.device_failures": {
        "title": "Device failures by supplier",
        "owner": NOAH,
        "description": "Which suppliers' shipments carry trackers that are down, which device types fail, "
                       "and how hot the cold chain ran.",
        "filters": [
            {"name": "device_type", "kind": "select", "label": "Device type"},
            {"name": "warehouse_id", "kind": "select", "label": "Warehouse"},
        ],
        "tiles": [
            {"title": "Trackers not active, per supplier",
             "query": "SELECT su.name AS supplier, d.status, d.device_type, d.warehouse_id,\n"
                      "       count(DISTINCT d.device_id) AS devices\n"
                      "FROM iot.device_health AS d\n"
                      "JOIN logistics.shipments AS sh ON sh.tracker_device_id = d.device_id\n"
                      "JOIN procurement.purchase_orders AS po ON po.po_id = sh.purchase_order_id\n"
                      "JOIN procurement.suppliers AS su USING (supplier_id)\n"
                      "WHERE d.status <> 'active'\nGROUP BY ALL\n",
             "chart": {"mark": "bar", "x": "supplier", "y": "devices", "color": "status", "aggregate": "sum"},
             "size": "large", "order": 1},
            {"title": "Devices by status",
             "query": "SELECT status, device_type, warehouse_id, count(*) AS devices\n"
                      "FROM iot.device_health\nGROUP BY ALL\n",
             "chart": {"mark": "arc", "x": "status", "y": "devices", "aggregate": "sum"},
             "size": "small", "order": 2},
            {"title": "Daily maximum temperature by device type",
             "query": "SELECT date_trunc('day', t.recorded_at)::DATE AS day, d.device_type, d.warehouse_id,\n"
                      "       max(t.temperature_c) AS max_temperature_c\n"
                      "FROM iot.telemetry AS t\nJOIN iot.devices AS d USING (device_id)\nGROUP BY ALL\n",
             "chart": {"mark": "line", "x": "day", "y": "max_temperature_c", "color": "device_type",
                       "aggregate": "max"},
             "size": "medium", "order": 3},
            {"title": "Shipments riding on a failing tracker",
             "description": "Driver names are masked unless your role may see personal data.",
             "query": "SELECT sh.shipment_id, sh.status AS shipment_status, sh.driver_name, d.device_id,\n"
                      "       d.device_type, d.status, d.warehouse_id\n"
                      "FROM logistics.shipments AS sh\n"
                      "JOIN iot.device_health AS d ON d.device_id = sh.tracker_device_id\n"
                      "WHERE d.status <> 'active'\nORDER BY sh.shipment_id\n",
             "size": "medium", "order": 4},
        ],
    },
    "planning.stock_outs": {
        "title": "Stock-outs",
        "owner": SAM,
        "description": "Where the digital twin says stock runs out, how short we are per storage class, "
                       "and whether carriers deliver on time to refill it.",
        "filters": [
            {"name": "warehouse_id", "kind": "select", "label": "Warehouse"},
            {"name": "storage", "kind": "select", "label": "Storage"},
        ],
        "tiles": [
            {"title": "SKUs at risk per warehouse",
             "query": "SELECT warehouse_id, risk, storage, count(*) AS skus\n"
                      "FROM planning.stockout_risk\nGROUP BY ALL\n",
             "chart": {"mark": "bar", "x": "warehouse_id", "y": "skus", "color": "risk", "aggregate": "sum"},
             "size": "medium", "order": 1},
            {"title": "Shortfall per storage class",
             "query": "SELECT storage, warehouse_id, sum(shortfall) AS shortfall\n"
                      "FROM planning.stockout_risk\nGROUP BY ALL\n",
             "chart": {"mark": "bar", "x": "storage", "y": "shortfall", "aggregate": "sum"},
             "size": "medium", "order": 2},
            {"title": "Carrier on-time delivery against target",
             "query": "SELECT carrier_name, mode, on_time_pct, on_time_target_pct\n"
                      "FROM planning.carrier_performance\n",
             "chart": {"mark": "bar", "x": "carrier_name", "y": "on_time_pct", "color": "mode"},
             "size": "medium", "order": 3},
            {"title": "Largest shortfalls",
             "query": "SELECT warehouse_id, sku, storage, available, inbound_qty, reorder_point, shortfall, risk\n"
                      "FROM planning.stockout_risk\nWHERE risk = 'stockout'\nORDER BY shortfall DESC\nLIMIT 50\n",
             "size": "medium", "order": 4},
        ],
    },
}
