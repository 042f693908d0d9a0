"""The core every layer may use: exact money, the canonical schema, errors, ledger.toml (typed,
with the user's own rules), providers, periods, tax years, safe file writes and the demo's
data. It imports nothing else of the project (docs/architecture.md)."""
