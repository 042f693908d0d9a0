"""ledger.counting.pipeline: see docs/architecture.md."""
