"""Supply-chain derived products: the digital twin's state and what planners read from it."""

from __future__ import annotations

from catalog.samples._spec import (
    STALE_DAYS, Col, Defect, Product, accepted, expression, fresh, in_range, not_null, sla, unique,
)
from catalog.samples.supply_chain.sources import LUCIA, MEI, SAM


def products() -> list[Product]:
    return [
        Product("iot", "device_health", "Device health",
                "Per device: readings received, last contact, battery and hottest reading, so field teams know "
                "which sensors to service.",
                LUCIA, "sql", [
                    Col("device_id", "VARCHAR", "Device key", key=True),
                    Col("device_type", "VARCHAR", "Device type"),
                    Col("warehouse_id", "VARCHAR", "Warehouse it is installed in"),
                    Col("status", "VARCHAR", "Registry status"),
                    Col("readings", "BIGINT", "Readings in the telemetry window"),
                    Col("last_seen_at", "TIMESTAMP", "Latest reading"),
                    Col("avg_battery_pct", "DOUBLE", "Mean battery charge in %"),
                    Col("max_temperature_c", "DOUBLE", "Highest temperature reported"),
                ], sql="""
SELECT d.device_id, d.device_type, d.warehouse_id, d.status,
       count(t.reading_id) AS readings,
       max(t.recorded_at) AS last_seen_at,
       round(avg(t.battery_pct), 1) AS avg_battery_pct,
       round(max(t.temperature_c), 1) AS max_temperature_c
FROM iot.devices AS d
LEFT JOIN iot.telemetry AS t ON t.device_id = d.device_id
GROUP BY d.device_id, d.device_type, d.warehouse_id, d.status
""", version="1.0.0", tags=["iot", "devices", "maintenance"],
                quality=[unique("device_id"), in_range("avg_battery_pct", min=0, max=100), fresh()],
                sla=sla("last_seen_at")),
        Product("planning", "digital_twin_state", "Digital twin: network state",
                "The supply-chain digital twin's view of every warehouse and SKU: stock (inventory), inbound "
                "orders (procurement) and warehouse climate (iot). Only as fresh as its stock feed.",
                SAM, "sql", [
                    Col("warehouse_id", "VARCHAR", "Warehouse", key=True),
                    Col("sku", "VARCHAR", "Item", key=True),
                    Col("storage", "VARCHAR", "ambient, chilled or frozen"),
                    Col("on_hand", "BIGINT", "Units on the shelf"),
                    Col("allocated", "BIGINT", "Units reserved"),
                    Col("available", "BIGINT", "on_hand - allocated"),
                    Col("inbound_qty", "BIGINT", "Units on open, confirmed or shipped purchase orders"),
                    Col("reorder_point", "BIGINT", "Reorder point"),
                    Col("avg_temperature_c", "DOUBLE", "Mean temperature reported by the warehouse's sensors"),
                    Col("counted_at", "TIMESTAMP", "Time of the stock count"),
                ], sql="""
WITH inbound AS (
    SELECT warehouse_id, sku, CAST(sum(quantity) AS BIGINT) AS inbound_qty
    FROM procurement.purchase_orders
    WHERE status IN ('open', 'confirmed', 'shipped')
    GROUP BY warehouse_id, sku
), climate AS (
    SELECT d.warehouse_id, round(avg(t.temperature_c), 1) AS avg_temperature_c
    FROM iot.telemetry AS t
    JOIN iot.devices AS d ON d.device_id = t.device_id
    WHERE d.warehouse_id IS NOT NULL
    GROUP BY d.warehouse_id
)
SELECT s.warehouse_id, s.sku, k.storage, s.on_hand, s.allocated,
       s.on_hand - s.allocated AS available,
       coalesce(i.inbound_qty, 0) AS inbound_qty,
       s.reorder_point,
       c.avg_temperature_c,
       s.counted_at
FROM inventory.stock_levels AS s
JOIN inventory.skus AS k ON k.sku = s.sku
LEFT JOIN inbound AS i ON i.warehouse_id = s.warehouse_id AND i.sku = s.sku
LEFT JOIN climate AS c ON c.warehouse_id = s.warehouse_id
""", version="0.9.0", tags=["digital-twin", "inventory", "network", "planning"],
                quality=[not_null("warehouse_id"), expression("available >= 0"), fresh()],
                sla=sla("counted_at", 24),
                defects=[Defect("stale", f"Inherits the staleness of inventory.stock_levels: its newest count is "
                                f"{STALE_DAYS} days old against a 24-hour SLA", ("counted_at",), "freshness")]),
        Product("planning", "stockout_risk", "Stock-out risk",
                "Warehouse and SKU pairs whose available plus inbound stock is below the reorder point, "
                "built on the digital twin.",
                SAM, "sql", [
                    Col("warehouse_id", "VARCHAR", "Warehouse", key=True),
                    Col("sku", "VARCHAR", "Item", key=True),
                    Col("storage", "VARCHAR", "ambient, chilled or frozen"),
                    Col("available", "BIGINT", "Units available"),
                    Col("inbound_qty", "BIGINT", "Units inbound"),
                    Col("reorder_point", "BIGINT", "Reorder point"),
                    Col("shortfall", "BIGINT", "Units missing to reach the reorder point"),
                    Col("risk", "VARCHAR", "stockout, high or medium"),
                    Col("counted_at", "TIMESTAMP", "Time of the stock count"),
                ], sql="""
SELECT warehouse_id, sku, storage, available, inbound_qty, reorder_point,
       reorder_point - (available + inbound_qty) AS shortfall,
       CASE WHEN available + inbound_qty <= 0 THEN 'stockout'
            WHEN available + inbound_qty < reorder_point / 2 THEN 'high'
            ELSE 'medium' END AS risk,
       counted_at
FROM planning.digital_twin_state
WHERE available + inbound_qty < reorder_point
""", version="0.9.0", tags=["digital-twin", "stockout", "replenishment", "planning"],
                quality=[accepted("risk", ["stockout", "high", "medium"]), in_range("shortfall", min=1)],
                sla=sla("counted_at", 24),
                defects=[Defect("stale", "Inherits the staleness of inventory.stock_levels through the digital "
                                "twin (no freshness check of its own; its SLA is missed)", ("counted_at",))]),
        Product("planning", "carrier_performance", "Carrier performance",
                "On-time delivery per carrier against its contractual target, from logistics shipments.",
                SAM, "sql", [
                    Col("carrier_id", "VARCHAR", "Carrier key", key=True),
                    Col("carrier_name", "VARCHAR", "Carrier name"),
                    Col("mode", "VARCHAR", "road, rail, sea or air"),
                    Col("shipments", "BIGINT", "Shipments handled"),
                    Col("delivered", "BIGINT", "Shipments delivered"),
                    Col("on_time_pct", "DOUBLE", "Delivered no later than the ETA, in % of delivered"),
                    Col("on_time_target_pct", "DOUBLE", "Contractual target in %"),
                    Col("updated_at", "TIMESTAMP", "Latest shipment update included"),
                ], sql="""
SELECT c.carrier_id, c.name AS carrier_name, c.mode,
       count(*) AS shipments,
       count(s.delivered_at) AS delivered,
       round(100.0 * count(*) FILTER (WHERE s.delivered_at <= s.eta) / nullif(count(s.delivered_at), 0), 1)
           AS on_time_pct,
       c.on_time_target_pct,
       max(s.updated_at) AS updated_at
FROM logistics.shipments AS s
JOIN logistics.carriers AS c ON c.carrier_id = s.carrier_id
GROUP BY c.carrier_id, c.name, c.mode, c.on_time_target_pct
""", version="1.2.0", tags=["carriers", "on-time", "kpi", "logistics"],
                quality=[unique("carrier_id"), in_range("on_time_pct", min=0, max=100), fresh()],
                sla=sla("updated_at")),
        Product("planning", "shipment_tracking", "Live shipment tracking",
                "Shipments not yet delivered with the last position and temperature of their GPS tracker: the "
                "moving part of the digital twin.",
                MEI, "sql", [
                    Col("shipment_id", "VARCHAR", "Shipment key", key=True),
                    Col("status", "VARCHAR", "in_transit, delayed or exception"),
                    Col("carrier_id", "VARCHAR", "Carrier"),
                    Col("destination_warehouse_id", "VARCHAR", "Receiving warehouse"),
                    Col("eta", "TIMESTAMP", "Estimated arrival"),
                    Col("latitude", "DOUBLE", "Last known latitude"),
                    Col("longitude", "DOUBLE", "Last known longitude"),
                    Col("temperature_c", "DOUBLE", "Last temperature reported on the load"),
                    Col("last_seen_at", "TIMESTAMP", "Last tracker reading"),
                ], sql="""
WITH last_fix AS (
    SELECT device_id,
           max(recorded_at) AS last_seen_at,
           arg_max(latitude, recorded_at) AS latitude,
           arg_max(longitude, recorded_at) AS longitude,
           arg_max(temperature_c, recorded_at) AS temperature_c
    FROM iot.telemetry
    GROUP BY device_id
)
SELECT s.shipment_id, s.status, s.carrier_id, s.destination_warehouse_id, s.eta,
       f.latitude, f.longitude, f.temperature_c, f.last_seen_at
FROM logistics.shipments AS s
LEFT JOIN last_fix AS f ON f.device_id = s.tracker_device_id
WHERE s.status <> 'delivered'
""", version="1.0.0", tags=["tracking", "digital-twin", "iot", "logistics"],
                quality=[unique("shipment_id"), accepted("status", ["in_transit", "delayed", "exception"]), fresh()],
                sla=sla("last_seen_at")),
    ]
