"""freelance-ledger: what online freelancers really earn, from the exports they already have."""

__version__ = "0.1.0"
