"""Meshwork: a data-product catalog and analytics workbench for a data mesh.

    import catalog
    mesh = catalog.open_mesh("sample_data/banking")
    mesh.session(role="analyst").sql("SELECT * FROM retail.customers LIMIT 5")
"""

from catalog.errors import (
    AccessDenied,
    MeshError,
    MeshNotFound,
    PublishError,
    QueryFailed,
    QueryRejected,
    QuerySyntaxError,
    QueryTimeout,
    SourceUnavailable,
    UnknownProduct,
)
from catalog.mesh import Mesh, open_mesh
from catalog.descriptors.model import Column, DataProduct, Domain, Problem
from catalog.access.policy import LockedProduct, Policy

__all__ = [
    "AccessDenied", "Column", "DataProduct", "Domain", "LockedProduct", "Mesh", "MeshError", "MeshNotFound", "Policy",
    "Problem", "PublishError",
    "QueryFailed", "QueryRejected", "QuerySyntaxError", "QueryTimeout", "SourceUnavailable", "UnknownProduct",
    "open_mesh",
]
