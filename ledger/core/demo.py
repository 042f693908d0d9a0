"""The bundled demo: which made-up exports it holds, where they are, and the day it is seen from.
`ledger demo` itself (import, print) is ledger/cli/demo.py."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path

EXPORTS = (
    "statements_2024-04-01_2024-04-30.csv",
    "statements_2024-05-01_2024-05-31.csv",
    "2024-06-30_transaction_report.csv",
    "paypal_Download.CSV",
    "payoneer_transactions_2024-06.csv",
    "AccountFullStatement.CSV",
)
OPTIONS = {"payoneer_transactions_2024-06.csv": {"date_order": "mdy"}}
"""Exports the demo imports with options of their own (importers.base.ImportOptions'
`from_dict`): Payoneer's own export is month-first, and the demo's June dates (06/08, 06/10)
could be read either way, which `ledger import` asks about (`--date-order mdy`)."""
TIMESHEET = "TogglTrack_Report_Detailed_2024-04-01_2024-06-30.csv"
SETTINGS = ("ledger.toml", "rates.csv")
AS_OF = dt.date(2024, 7, 1)
"""The day the demo is seen from: Ayesha downloads her June exports on 1 July 2024. Money in
transit is aged from here, not from today, which would make every June withdrawal years late."""


def demo_dir() -> Path:
    return Path(str(resources.files("ledger") / "data" / "demo"))
