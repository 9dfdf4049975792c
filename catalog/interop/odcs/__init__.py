"""Open Data Contract Standard (ODCS v3.0, v3.1, v3.2) import and export.

`reading` validates a document against the schema of its own apiVersion; `importing` turns each schema
object into a descriptor, keeping what Meshwork models and carrying the rest verbatim (`carry`);
`exporting` writes products back in standard fields; `publishing` runs imports through the Publisher.
"""

from catalog.interop.odcs.exporting import API_VERSION, ENGINE, logical_type
from catalog.interop.odcs.publishing import (
    ImportReport, draft_from_contract, drafts_from_contract, export_contract, export_document, from_contract,
    import_contract, import_contract_file, import_contracts, read_contract, round_trip_share, validate_contract,
)
from catalog.interop.odcs.reading import ContractError
from catalog.interop.odcs.schemas import json_schema

__all__ = ["API_VERSION", "ENGINE", "ContractError", "ImportReport", "draft_from_contract", "drafts_from_contract",
           "export_contract", "export_document", "from_contract", "import_contract", "import_contract_file",
           "import_contracts", "json_schema", "logical_type", "read_contract", "round_trip_share",
           "validate_contract"]
