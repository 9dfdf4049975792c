"""Interop: the formats other tools speak (ODCS data contracts), one module per format, imported and exported."""
