"""ledger.render.report: see docs/architecture.md."""
