"""ledger.reports: see docs/architecture.md."""
