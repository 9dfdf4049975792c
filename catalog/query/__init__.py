"""Query: governed SQL: the gate that vets every statement, role views with masking, sessions."""
