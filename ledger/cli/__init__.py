"""The `ledger` command line: `main.py` builds the app and registers each command module
(`rates.py`, `reconcile.py`, ...); `common.py` holds what they share. Kept empty so that
importing one command module (or `ledger --help`) loads nothing else."""
