"""The business glossary: terms as code (`glossary/*.yaml`), where they are used, and the proposals a steward
approves or rejects."""
