"""Supply-chain products read in place: IoT telemetry exports, the TMS's DuckDB file, the WMS SQLite
database, ERP parquet and CSV extracts; the seeded defects live here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from catalog.samples._gen import (
    after, choice, cycle, day, derive, email_of, ident, integer, lookup, number, percent, person_name, phone,
    pick, rand, ref, seq, timestamp, until,
)
from catalog.samples._spec import (
    STALE_DAYS, Col, Defect, Product, accepted, expression, fresh, in_range, not_null, references, regex,
    row_count, sla, stale_end, unique,
)

NOAH, LUCIA, MEI, OLGA, RAJ, SAM = (f"{n}@supplyco.example" for n in (
    "noah.fischer", "lucia.mendes", "mei.chen", "olga.petrova", "raj.patel", "sam.carter"))

DEVICE_TYPES = ("gps_tracker", "temperature_sensor", "humidity_sensor", "rfid_gate", "vibration_sensor")
WAREHOUSE_CITIES = {"Rotterdam": "NL", "Hamburg": "DE", "Antwerp": "BE", "Lyon": "FR", "Milan": "IT",
                    "Warsaw": "PL", "Madrid": "ES", "Prague": "CZ", "Vienna": "AT", "Dublin": "IE"}
CARRIERS = {"NorthSea Freight": "sea", "EuroRoad Logistics": "road", "Alpine Rail Cargo": "rail",
            "SkyBridge Air": "air", "Baltic Lines": "sea", "Iberia Trucking": "road", "Danube Barge Co": "sea",
            "Rhine Rail": "rail", "QuickHaul": "road", "Polar Express Air": "air", "Atlas Road": "road",
            "Celtic Shipping": "sea"}
SUPPLIER_CITIES = ("Shenzhen", "Ho Chi Minh City", "Izmir", "Poznan", "Porto", "Monterrey", "Chennai", "Brno")
EVENT_TYPES = ("picked_up", "departed_hub", "arrived_hub", "customs_cleared", "out_for_delivery", "delivered",
               "exception")
PO_STATUSES = ("open", "confirmed", "shipped", "received", "cancelled")

BAD_FIRMWARE_ROWS = (21, 77, 150, 233)
HOT_READING_ROWS = (5, 1234, 4321, 7777, 9001, 11111, 13579, 16000, 19999)
NULL_CARRIER_ROWS = (3, 250, 499, 888, 1024, 1400, 1750, 1999)
ORPHAN_TRACKER_ROWS = (10, 420, 999, 1313, 1888)
DUPLICATE_STOCK_ROWS = (101, 777, 1499, 2222)
DUPLICATE_PO_ROWS = (250, 1250, 2750)


def products(scale: int, anchor: datetime) -> list[Product]:
    n_dev, n_carriers, n_ship, n_wh = 300 * scale, 12 * scale, 2000 * scale, 10 * scale
    n_sku, n_sup, n_po = 250 * scale, 60 * scale, 3000 * scale
    stale = stale_end(anchor)

    def recent(days: int):
        return timestamp(anchor - timedelta(days=days), anchor)

    def tracker(i: pl.Expr, s: int) -> pl.Expr:  # every fifth device (DEV-00001, DEV-00006, ...) is a GPS tracker
        return ident("DEV-", 5, (rand(i, s) % (n_dev // 5)).cast(pl.Int64) * 5 + 1)

    def delivered_at(i: pl.Expr, s: int) -> pl.Expr:  # around the ETA, unless that is still ahead
        landed = pl.col("eta") + pl.duration(hours=(rand(i, s) % 84).cast(pl.Int64) - 60)
        return pl.when(landed <= pl.lit(anchor)).then(landed)

    def shipment_status(i: pl.Expr, s: int) -> pl.Expr:
        return (pl.when(percent(i, s) < 3).then(pl.lit("exception"))
                .when(pl.col("delivered_at").is_not_null()).then(pl.lit("delivered"))
                .when(pl.col("eta") < pl.lit(anchor)).then(pl.lit("delayed")).otherwise(pl.lit("in_transit")))

    supplier = [
        Col("supplier_id", "VARCHAR", "Supplier key", key=True, gen=seq("SUP-", 4)),
        Col("name", "VARCHAR", "Registered company name",
            gen=lambda i, s: pick(rand(i, s), ["Nordic", "Pacific", "Delta", "Orion", "Vertex", "Summit", "Atlas"])
            + " " + pick(rand(i, s + 1), ["Components", "Packaging", "Foods", "Plastics", "Electronics", "Textiles"])
            + " " + pick(rand(i, s + 2), ["Ltd", "GmbH", "SA", "Co", "sp. z o.o."])),
        Col("city", "VARCHAR", "City of the main plant", gen=choice(SUPPLIER_CITIES)),
        Col("contact_name", "VARCHAR", "Account manager at the supplier", "name", gen=person_name()),
        Col("contact_email", "VARCHAR", "Account manager's e-mail", "email",
            gen=email_of("contact_name", ["supplier.example", "vendor.example"])),
        Col("contact_phone", "VARCHAR", "Account manager's phone", "phone", gen=phone()),
        Col("tier", "BIGINT", "Supply tier: 1 ships to us, 2 and 3 ship to our suppliers", gen=choice([1, 2, 3], [5, 3, 2])),
        Col("risk_rating", "VARCHAR", "low, medium or high", gen=choice(["low", "medium", "high"], [6, 3, 1])),
        Col("onboarded_on", "DATE", "Date the supplier was approved", gen=day(date(2015, 1, 1), date(2026, 6, 1))),
    ]
    return [
        Product("iot", "devices", "IoT device registry",
                "Every sensor and tracker the company operates: type, where it is installed, firmware and status.",
                NOAH, "csv", [
                    Col("device_id", "VARCHAR", "Device key", key=True, gen=seq("DEV-", 5)),
                    Col("device_type", "VARCHAR", "gps_tracker, temperature_sensor, humidity_sensor, rfid_gate "
                        "or vibration_sensor", gen=cycle(DEVICE_TYPES)),
                    Col("warehouse_id", "VARCHAR", "Warehouse it is installed in (inventory.warehouses); "
                        "empty for trackers on trucks and containers",
                        gen=lambda i, s: pl.when(pl.col("device_type") != "gps_tracker")
                        .then(ref("WH-", 2, n_wh)(i, s))),
                    Col("firmware_version", "VARCHAR", "Semantic version of the firmware",
                        gen=lambda i, s: pl.concat_str([pl.lit("2."), (rand(i, s) % 4).cast(pl.String), pl.lit("."),
                                                        (rand(i, s + 1) % 10).cast(pl.String)])),
                    Col("installed_on", "DATE", "Installation date", gen=day(date(2022, 1, 1), date(2026, 9, 1))),
                    Col("status", "VARCHAR", "active, maintenance or retired",
                        gen=choice(["active", "maintenance", "retired"], [90, 6, 4])),
                    Col("updated_at", "TIMESTAMP", "Last registry change", gen=recent(7)),
                ], path="data/devices.csv", rows=300, version="1.3.0", tags=["iot", "devices", "registry"],
                quality=[unique("device_id"), accepted("device_type", list(DEVICE_TYPES)),
                         regex("firmware_version", r"^\d+\.\d+\.\d+$", severity="warning"),
                         references("warehouse_id", "inventory.warehouses"), fresh()],
                sla=sla("updated_at"),
                defects=[Defect("pattern_violation", "4 devices report firmware versions that are not semantic "
                                "versions (v2.1, 2.1, 2.1.0-beta, latest)", ("firmware_version",),
                                "firmware_version matches pattern", BAD_FIRMWARE_ROWS,
                                ["v2.1", "2.1", "2.1.0-beta", "latest"])]),
        Product("iot", "telemetry", "Device telemetry",
                "Readings streamed by sensors and trackers over the last 14 days: temperature, humidity, battery "
                "and position. The largest product; it feeds the digital twin.",
                NOAH, "parquet", [
                    Col("reading_id", "VARCHAR", "Reading key", key=True, gen=seq("RD", 9)),
                    Col("device_id", "VARCHAR", "Device that sent it (iot.devices)", gen=ref("DEV-", 5, n_dev)),
                    Col("recorded_at", "TIMESTAMP", "Time on the device clock (UTC)", gen=recent(14)),
                    Col("temperature_c", "DOUBLE", "Temperature in degrees Celsius", gen=number(-22, 28, 1)),
                    Col("humidity_pct", "DOUBLE", "Relative humidity in %", gen=number(20, 90, 1)),
                    Col("battery_pct", "BIGINT", "Battery charge in %", gen=integer(5, 100)),
                    Col("latitude", "DOUBLE", "WGS84 latitude", gen=number(36.0, 55.0, 5)),
                    Col("longitude", "DOUBLE", "WGS84 longitude", gen=number(-9.0, 24.0, 5)),
                ], path="data/telemetry.parquet", rows=20_000, version="2.0.0",
                tags=["iot", "telemetry", "sensors", "cold-chain", "digital-twin"],
                quality=[unique("reading_id"), references("device_id", "iot.devices"),
                         in_range("temperature_c", min=-40, max=85), in_range("humidity_pct", min=0, max=100),
                         in_range("battery_pct", min=0, max=100), row_count(min=15_000), fresh()],
                sla=sla("recorded_at"),
                defects=[Defect("out_of_range", "9 temperature readings of 150.0 °C from sensors with a failing "
                                "probe", ("temperature_c",), "temperature_c in range", HOT_READING_ROWS, 150.0)]),
        Product("logistics", "carriers", "Carriers",
                "Road, rail, sea and air carriers under contract, with their on-time delivery target.",
                MEI, "csv", [
                    Col("carrier_id", "VARCHAR", "Carrier key", key=True, gen=seq("CAR-", 2)),
                    Col("name", "VARCHAR", "Carrier name", gen=cycle(list(CARRIERS))),
                    Col("mode", "VARCHAR", "road, rail, sea or air", gen=lookup("name", CARRIERS)),
                    Col("contact_email", "VARCHAR", "Dispatch desk e-mail", "email",
                        gen=email_of(None, ["carrier.example"])),
                    Col("on_time_target_pct", "DOUBLE", "Contractual on-time target in %",
                        gen=choice([92.0, 95.0, 97.5])),
                ], path="data/carriers.csv", rows=12, version="1.0.0", tags=["carriers", "logistics", "contracts"],
                quality=[unique("carrier_id"), not_null("name"), accepted("mode", ["road", "rail", "sea", "air"]),
                         in_range("on_time_target_pct", min=50, max=100)]),
        Product("logistics", "shipments", "Inbound shipments",
                "Shipments from suppliers to warehouses from the transport management system, with the GPS "
                "tracker travelling with each load.",
                MEI, "duckdb", [
                    Col("shipment_id", "VARCHAR", "Shipment key", key=True, gen=seq("SH", 7)),
                    Col("purchase_order_id", "VARCHAR", "Order shipped (procurement.purchase_orders)",
                        gen=ref("PO-", 7, n_po, avoid=DUPLICATE_PO_ROWS)),
                    Col("carrier_id", "VARCHAR", "Carrier (logistics.carriers)", gen=ref("CAR-", 2, n_carriers)),
                    Col("tracker_device_id", "VARCHAR", "GPS tracker on the load (iot.devices)", gen=tracker),
                    Col("origin_city", "VARCHAR", "Supplier city the load left", gen=choice(SUPPLIER_CITIES)),
                    Col("destination_warehouse_id", "VARCHAR", "Receiving warehouse (inventory.warehouses)",
                        gen=ref("WH-", 2, n_wh)),
                    Col("shipped_at", "TIMESTAMP", "Departure time", gen=recent(45)),
                    Col("eta", "TIMESTAMP", "Estimated arrival", gen=after("shipped_at", 24, 240)),
                    Col("delivered_at", "TIMESTAMP", "Proof of delivery; empty until delivered", gen=delivered_at),
                    Col("status", "VARCHAR", "in_transit, delayed, delivered or exception", gen=shipment_status),
                    Col("driver_name", "VARCHAR", "Driver on the last leg", "name", gen=person_name()),
                    Col("driver_phone", "VARCHAR", "Driver's mobile", "phone", gen=phone()),
                    Col("updated_at", "TIMESTAMP", "Last status change",
                        gen=derive(lambda: pl.max_horizontal("shipped_at", "delivered_at"))),
                ], path="data/tms.duckdb", table="shipments", rows=2000, version="2.4.0",
                tags=["shipments", "logistics", "tms", "tracking"],
                quality=[unique("shipment_id"), not_null("carrier_id"),
                         references("tracker_device_id", "iot.devices", "device_id"),
                         references("purchase_order_id", "procurement.purchase_orders", "po_id"),
                         accepted("status", ["in_transit", "delayed", "delivered", "exception"]),
                         expression("eta > shipped_at"), fresh()],
                sla=sla("updated_at"),
                defects=[Defect("nulls", "8 shipments have no carrier (NULL): booked by phone, never keyed in",
                                ("carrier_id",), "carrier_id not null", NULL_CARRIER_ROWS),
                         Defect("orphans", "5 shipments name trackers that iot.devices does not hold (trackers "
                                "swapped on the road)", ("tracker_device_id",),
                                "tracker_device_id references iot.devices", ORPHAN_TRACKER_ROWS,
                                [f"DEV-X{n + 1:04d}" for n in range(len(ORPHAN_TRACKER_ROWS))])]),
        Product("logistics", "shipment_events", "Shipment tracking events",
                "Milestones scanned along each shipment's route.",
                MEI, "duckdb", [
                    Col("event_id", "VARCHAR", "Event key", key=True, gen=seq("EV", 8)),
                    Col("shipment_id", "VARCHAR", "Shipment (logistics.shipments)", gen=ref("SH", 7, n_ship)),
                    Col("event_type", "VARCHAR", "Milestone", gen=choice(EVENT_TYPES, [3, 3, 3, 2, 2, 3, 1])),
                    Col("event_at", "TIMESTAMP", "Scan time", gen=recent(45)),
                    Col("location", "VARCHAR", "Where it was scanned",
                        gen=choice(list(WAREHOUSE_CITIES) + list(SUPPLIER_CITIES))),
                ], path="data/tms.duckdb", table="shipment_events", rows=8000, version="2.4.0",
                tags=["shipments", "events", "tracking"],
                quality=[unique("event_id"), references("shipment_id", "logistics.shipments"),
                         accepted("event_type", list(EVENT_TYPES)), fresh()],
                sla=sla("event_at")),
        Product("logistics", "supplier_contacts", "Supplier pickup contacts",
                "Logistics' own list of supplier contacts for arranging pickups.",
                OLGA, "parquet", [c for c in supplier if c.name in ("supplier_id", "name", "city", "contact_name",
                                                                    "contact_email", "contact_phone")],
                path="data/supplier_contacts.parquet", rows=57, seed="procurement.suppliers", version="0.5.0",
                tags=["suppliers", "contacts", "pickups"], quality=[unique("supplier_id")],
                defects=[Defect("duplicate_product", "A copy of procurement.suppliers: the same supplier_id values "
                                "(the first 95% of suppliers) and the same names and contacts, kept by another "
                                "domain (multi-domain duplication)", ("supplier_id",),
                                copy_of="procurement.suppliers")]),
        Product("inventory", "warehouses", "Warehouses",
                "Distribution centres with their capacity, temperature zone and manager.",
                RAJ, "sqlite", [
                    Col("warehouse_id", "VARCHAR", "Warehouse key", key=True, gen=seq("WH-", 2)),
                    Col("city", "VARCHAR", "City", gen=cycle(list(WAREHOUSE_CITIES))),
                    Col("country", "VARCHAR", "ISO 3166 alpha-2 country code", gen=lookup("city", WAREHOUSE_CITIES)),
                    Col("zone_type", "VARCHAR", "ambient, chilled or frozen",
                        gen=cycle(["ambient", "chilled", "ambient", "frozen", "ambient"])),
                    Col("capacity_pallets", "BIGINT", "Pallet positions", gen=integer(2000, 40000)),
                    Col("manager_name", "VARCHAR", "Site manager", "name", gen=person_name()),
                    Col("manager_email", "VARCHAR", "Site manager's e-mail", "email",
                        gen=email_of("manager_name", ["supplyco.example"])),
                ], path="data/wms.sqlite", table="warehouses", rows=10, version="1.0.0",
                tags=["warehouses", "network", "capacity"],
                quality=[unique("warehouse_id"), accepted("zone_type", ["ambient", "chilled", "frozen"]),
                         in_range("capacity_pallets", min=100, max=100_000)]),
        Product("inventory", "skus", "Stock-keeping units",
                "Item master: every SKU with its category, storage needs, weight and unit cost.",
                RAJ, "parquet", [
                    Col("sku", "VARCHAR", "SKU key", key=True, gen=seq("SKU-", 5)),
                    Col("name", "VARCHAR", "Item name",
                        gen=lambda i, s: pick(rand(i, s), ["Organic", "Premium", "Compact", "Industrial", "Frozen",
                                                           "Eco", "Heavy-duty"])
                        + " " + pick(rand(i, s + 1), ["yoghurt", "sensor kit", "cable reel", "pallet wrap",
                                                      "berries", "battery pack", "coffee beans", "vaccine cooler"])),
                    Col("category", "VARCHAR", "Product category",
                        gen=choice(["food", "electronics", "packaging", "pharma", "industrial"])),
                    Col("storage", "VARCHAR", "ambient, chilled or frozen",
                        gen=choice(["ambient", "chilled", "frozen"], [6, 3, 1])),
                    Col("unit_weight_kg", "DOUBLE", "Weight of one unit in kg", gen=number(0.1, 25, 2)),
                    Col("unit_cost", "DOUBLE", "Standard cost of one unit in EUR", gen=number(0.5, 400, 2)),
                    Col("shelf_life_days", "BIGINT", "Shelf life in days", gen=integer(7, 720)),
                    Col("hazardous", "BOOLEAN", "Dangerous goods (ADR)", gen=lambda i, s: percent(i, s) < 4),
                ], path="data/skus.parquet", rows=250, version="1.6.0", tags=["sku", "items", "master-data"],
                quality=[unique("sku"), regex("sku", r"^SKU-\d{5,}$"),
                         accepted("storage", ["ambient", "chilled", "frozen"]),
                         in_range("unit_cost", min=0, max=10_000)]),
        Product("inventory", "stock_levels", "Stock levels",
                "On-hand and allocated quantity per warehouse and SKU from the WMS cycle counts.",
                RAJ, "sqlite", [
                    Col("warehouse_id", "VARCHAR", "Warehouse (inventory.warehouses)", key=True,
                        gen=lambda i, s: ident("WH-", 2, i // n_sku + 1)),
                    Col("sku", "VARCHAR", "Item (inventory.skus)", key=True,
                        gen=lambda i, s: ident("SKU-", 5, i % n_sku + 1)),
                    Col("on_hand", "BIGINT", "Units on the shelf", gen=integer(0, 5000)),
                    Col("allocated", "BIGINT", "Units reserved for outbound orders",
                        gen=lambda i, s: pl.min_horizontal(pl.col("on_hand"), integer(0, 800)(i, s))),
                    Col("reorder_point", "BIGINT", "Reorder when available stock falls below this",
                        gen=integer(100, 1500)),
                    Col("counted_at", "TIMESTAMP", "Time of the cycle count",
                        gen=timestamp(stale - timedelta(days=7), stale)),
                ], path="data/wms.sqlite", table="stock_levels", rows=2500, version="3.2.0",
                tags=["inventory", "stock", "wms", "digital-twin"],
                quality=[unique("warehouse_id", "sku"), references("sku", "inventory.skus"),
                         references("warehouse_id", "inventory.warehouses"), in_range("on_hand", min=0),
                         expression("allocated <= on_hand"), fresh()],
                sla=sla("counted_at", 24),
                defects=[Defect("duplicate_keys", "4 (warehouse_id, sku) pairs occur twice: a cycle count was "
                                "imported twice (count(*) - count(DISTINCT (warehouse_id, sku)) = 4)",
                                ("warehouse_id", "sku"), "warehouse_id, sku unique", DUPLICATE_STOCK_ROWS),
                         Defect("stale", f"The WMS export job stopped: the last count is from {stale:%Y-%m-%d}, "
                                f"{STALE_DAYS} days before the snapshot, against a 24-hour SLA", ("counted_at",),
                                "freshness")]),
        Product("procurement", "suppliers", "Suppliers",
                "Approved suppliers with tier, risk rating and account manager contacts (ERP vendor master).",
                OLGA, "csv", supplier, path="data/suppliers.csv", rows=60, version="2.0.0",
                tags=["suppliers", "vendors", "master-data", "risk"],
                quality=[unique("supplier_id"), accepted("tier", [1, 2, 3]),
                         accepted("risk_rating", ["low", "medium", "high"]), not_null("contact_email")]),
        Product("procurement", "purchase_orders", "Purchase orders",
                "Purchase order lines from the ERP: what was ordered from whom, for which warehouse, and its status.",
                OLGA, "parquet", [
                    Col("po_id", "VARCHAR", "Purchase order line key", key=True, gen=seq("PO-", 7)),
                    Col("supplier_id", "VARCHAR", "Supplier (procurement.suppliers)", gen=ref("SUP-", 4, n_sup)),
                    Col("sku", "VARCHAR", "Item ordered (inventory.skus)", gen=ref("SKU-", 5, n_sku)),
                    Col("warehouse_id", "VARCHAR", "Receiving warehouse (inventory.warehouses)", gen=ref("WH-", 2, n_wh)),
                    Col("quantity", "BIGINT", "Units ordered", gen=integer(10, 2000)),
                    Col("unit_price", "DOUBLE", "Price per unit in EUR", gen=number(0.5, 400, 2)),
                    Col("ordered_at", "TIMESTAMP", "Order time", gen=recent(90)),
                    Col("promised_date", "DATE", "Delivery date the supplier confirmed",
                        gen=lambda i, s: pl.col("ordered_at").dt.date()
                        + pl.duration(days=(rand(i, s) % 39).cast(pl.Int64) + 7)),
                    Col("status", "VARCHAR", "open, confirmed, shipped, received or cancelled",
                        gen=choice(PO_STATUSES, [15, 20, 20, 40, 5])),
                ], path="data/purchase_orders.parquet", rows=3000, version="1.8.0",
                tags=["procurement", "purchase-orders", "erp", "inbound"],
                quality=[unique("po_id"), references("supplier_id", "procurement.suppliers"),
                         references("sku", "inventory.skus"), accepted("status", list(PO_STATUSES)),
                         in_range("quantity", min=1, max=100_000),
                         expression("promised_date >= CAST(ordered_at AS DATE)"), fresh()],
                sla=sla("ordered_at"),
                defects=[Defect("duplicate_keys", "3 po_ids occur twice: order lines re-sent after an ERP timeout "
                                "(count(*) - count(DISTINCT po_id) = 3)", ("po_id",), "po_id unique",
                                DUPLICATE_PO_ROWS)]),
        Product("procurement", "supplier_contracts", "Supplier contracts",
                "Negotiated prices and payment terms per supplier and SKU. Commercially sensitive: restricted to "
                "procurement managers and stewards.",
                OLGA, "duckdb", [
                    Col("contract_id", "VARCHAR", "Contract line key", key=True, gen=seq("CTR-", 5)),
                    Col("supplier_id", "VARCHAR", "Supplier (procurement.suppliers)", gen=ref("SUP-", 4, n_sup)),
                    Col("sku", "VARCHAR", "Item (inventory.skus)", gen=ref("SKU-", 5, n_sku)),
                    Col("negotiated_price", "DOUBLE", "Contract price per unit", gen=number(0.4, 380, 2)),
                    Col("currency", "VARCHAR", "EUR or USD", gen=choice(["EUR", "USD"], [4, 1])),
                    Col("valid_from", "DATE", "Start of validity", gen=day(date(2025, 1, 1), date(2026, 10, 1))),
                    Col("valid_to", "DATE", "End of validity (one year)",
                        gen=derive(lambda: pl.col("valid_from") + pl.duration(days=365))),
                    Col("payment_terms_days", "BIGINT", "Days to pay", gen=choice([30, 45, 60, 90])),
                ], path="data/contracts.duckdb", table="supplier_contracts", rows=400, version="1.1.0",
                tags=["procurement", "contracts", "pricing"],
                quality=[unique("contract_id"), references("supplier_id", "procurement.suppliers"),
                         accepted("currency", ["EUR", "USD"]), expression("valid_to > valid_from")],
                access={"restricted": True, "roles": ["steward", "procurement_manager"]}),
        Product("planning", "what_if_scenarios", "", "", LUCIA, "csv", [
            Col("scenario_id", "VARCHAR", gen=seq("SCN-", 4)),
            Col("planner_email", "VARCHAR", gen=email_of(None, ["supplyco.example"])),
            Col("scenario", "VARCHAR", gen=choice(["port strike Rotterdam", "chilled demand +20%",
                                                   "supplier SUP-0007 insolvent", "fuel price +15%",
                                                   "new distribution centre in Milan"])),
            Col("demand_change_pct", "BIGINT", gen=integer(-30, 40)),
            Col("lead_time_change_days", "BIGINT", gen=integer(-5, 21)),
            Col("service_level_pct", "DOUBLE", gen=number(80, 99.9, 1)),
            Col("created_at", "TIMESTAMP", gen=until(recent(60), anchor)),
        ], path="data/what_if_scenarios.csv", rows=80,
            defects=[Defect("undocumented", "No title, no description, no column descriptions, no checks, no SLA"),
                     Defect("unclassified_pii", "planner_email holds planners' e-mail addresses but is not "
                            "classified as PII", ("planner_email",))]),
    ]
