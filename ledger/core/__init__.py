"""ledger.core: see docs/architecture.md."""
