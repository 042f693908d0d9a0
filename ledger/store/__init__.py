"""The ledger directory (`directory.Ledger`: archive, import log, lock, canonical rows) and
`importing`, the one place that reads exports through the importers into a commit."""
