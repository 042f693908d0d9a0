"""ledger.store.directory: see docs/architecture.md."""
