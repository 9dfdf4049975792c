"""Supply-chain sample mesh: IoT telemetry, shipments and inventory feeding a digital twin.

Seeded defects (exact counts at every scale; `DEFECTS` is the list tests rely on):
- iot.devices: 4 firmware versions that are not semantic versions (`firmware_version matches pattern` fails).
- iot.telemetry: 9 temperature readings of 150 °C (`temperature_c in range` fails).
- logistics.shipments: 8 NULL carrier_ids (`carrier_id not null` fails) and 5 trackers unknown to
  iot.devices (`tracker_device_id references iot.devices` fails: a cross-domain reference).
- inventory.stock_levels: 4 (warehouse_id, sku) pairs occur twice (multi-column unique fails) and the
  feed is stale on purpose: last count 80 days before the snapshot (2026-09-01 for the default
  anchor) against a 24-hour SLA. planning.digital_twin_state (its freshness check fails) and
  planning.stockout_risk inherit that staleness.
- procurement.purchase_orders: 3 po_ids occur twice (`po_id unique` fails).
- planning.what_if_scenarios: undocumented (no title, description, checks or SLA) and its planner_email
  column is not classified as PII.
- logistics.supplier_contacts: a parquet copy of procurement.suppliers (same supplier_id values for
  the first 95% of suppliers, same names and contacts): multi-domain duplication.
"""

from __future__ import annotations

from datetime import datetime

from catalog.samples._spec import ANCHOR, DomainSpec, MeshSpec, policy, roles
from catalog.samples.supply_chain import dashboards, derived, notebooks, sources
from catalog.samples.supply_chain.sources import LUCIA, MEI, NOAH, OLGA, RAJ, SAM

STORY = """
A European distributor of food, pharma and industrial goods runs ten warehouses, hundreds of
sensors and GPS trackers, a dozen carriers and sixty suppliers. Its planners want a **digital twin**
of the network that is fed continuously, without moving every team's data into one place.

Each team publishes data products from its own systems: IoT telemetry as parquet, the device
registry as CSV, the transport management system's DuckDB file, the warehouse management system's
SQLite database, ERP extracts. Planning derives the twin (`planning.digital_twin_state`, joining
inventory, procurement and IoT), stock-out risk on top of it, live shipment tracking (logistics +
IoT) and carrier performance. Supplier contracts are commercially sensitive and restricted.

The snapshot is taken at 2026-11-20 06:00. Fresh products promise a 90-day SLA so the shipped
snapshot stays fresh until 2027-02-18; the WMS stock feed promises 24 hours and stopped on
2026-09-01, so it (and the twin built on it) is stale whatever the date.
"""


def mesh(scale: int = 1, anchor: datetime = ANCHOR) -> MeshSpec:
    return MeshSpec(
        "supply_chain", "Supply chain digital twin mesh",
        "IoT device telemetry, shipments, inventory and procurement of a European distributor, feeding a "
        "supply-chain digital twin.",
        STORY,
        roles=roles(partner=("Carrier or supplier partner: sees the unrestricted products, personal data masked",
                             False),
                    procurement_manager=("Procurement manager: also sees negotiated supplier contracts", False)),
        domains=[
            DomainSpec("iot", "IoT Platform", "Device registry, telemetry and device health.", NOAH, [NOAH, LUCIA],
                       policies=[policy("iot-three-checks", "has_quality_checks",
                                        "Sensor data feeds automated decisions: at least three checks each.",
                                        min=3)]),
            DomainSpec("logistics", "Logistics", "Carriers, inbound shipments and their tracking events.", MEI,
                       [MEI, OLGA]),
            DomainSpec("inventory", "Inventory", "Warehouses, the item master and stock levels.", RAJ, [RAJ]),
            DomainSpec("procurement", "Procurement", "Suppliers, purchase orders and contracts.", OLGA, [OLGA]),
            DomainSpec("planning", "Planning", "The digital twin and what planners derive from it.", SAM,
                       [SAM, LUCIA, MEI],
                       policies=[policy("twin-freshness", "has_freshness_sla",
                                        "Every planning product promises freshness: the twin must be current.")]),
        ],
        products=sources.products(scale, anchor) + derived.products(),
        dashboards=dashboards.DASHBOARDS, notebooks=notebooks.NOTEBOOKS,
    )


DEFECTS = mesh().defects()
