"""A freelancer's five years (2021-2025) in six exports, for the everyday bench (issue 23).

`write_five(folder, seed)` writes about 20,000 rows: PayPal, Upwork, Payoneer and an HDFC
statement (the big generators, spread over five years), plus a Wise transaction history and a
Fiverr earnings export written here (a few hundred rows each). Upwork, Payoneer and Wise send
money to the bank; Fiverr withdraws to PayPal: reconcile has transfers to look at. Same seed,
same bytes.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from pathlib import Path

START = dt.date(2021, 1, 1)
DAYS = (dt.date(2026, 1, 1) - START).days
SIZES = {"paypal": 3_000, "upwork": 5_000, "payoneer": 4_000, "hdfc": 4_500, "wise": 500,
         "fiverr": 500}
"""Rows per export: about 20,400 ledger rows in all (PayPal's fees and Wise's become rows of
their own, Fiverr's withdrawal fees are rows of the export, Payoneer's pending are skipped)."""
LEDGER_TOML = """# bench/gen_five.py: a freelancer in Pune, five years of made-up exports.
home_currency = "INR"
country = "IN"

[[workers]]
name = "Rahul"
currency = "INR"
aliases = ["Rahul Sharma"]

[[splits]]
id = "rahul-upwork"
worker = "Rahul"
platform = "upwork"
client = "Client 1*"
percent_of_gross = "10"
order = 1
"""
"""The ledger's settings, like the demo's (home currency, country), with a sub-worker paid a
share of some Upwork contracts, so that `payouts` has something to count."""

WISE_HEADER = ("ID,Status,Direction,Created on,Finished on,Source fee amount,Source fee currency,"
               "Target fee amount,Target fee currency,Source name,Source amount (after fees),"
               "Source currency,Target name,Target amount (after fees),Target currency,"
               "Exchange rate,Reference,Batch,Created by,Category,Note")
CLIENTS = ("Acme Corp", "Beta LLC", "Gamma Studio GmbH", "Upwork Escrow Inc", "Delta Labs")


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _days(rng: random.Random, rows: int) -> list[dt.date]:
    return sorted(START + dt.timedelta(days=rng.randrange(DAYS)) for _ in range(rows))


def write_wise(path: Path, rows: int, seed: int = 5) -> Path:
    """A Wise transaction history, newest first: client payments in USD, every fourth row a
    transfer of USD to the freelancer's INR bank account with its fee."""
    rng = random.Random(seed)
    out = []
    for i, day in enumerate(_days(rng, rows)):
        when = f"{day} {rng.randrange(8, 20):02d}:{rng.randrange(60):02d}:00"
        if i % 4 == 3:
            cents = rng.randrange(20_000, 200_000)
            fee = cents // 200 + 50
            rate = rng.randrange(7_400, 8_400) / 100
            inr = (cents - fee) * int(rate * 100) // 100
            out.append(f"TRANSFER-{900_000 + i},COMPLETED,OUT,{when},{when},{_money(fee)},USD,,,"
                       f"Jane Doe,{_money(cents - fee)},USD,Jane Doe HDFC,{_money(inr)},INR,"
                       f"{rate},,,Jane Doe,,")
        else:
            cents = rng.randrange(5_000, 300_000)
            out.append(f"TRANSFER-{900_000 + i},COMPLETED,IN,{when},{when},,,,,"
                       f"{rng.choice(CLIENTS)},{_money(cents)},USD,Jane Doe,{_money(cents)},USD,"
                       "1,,,,,")
    path.write_text("\n".join([WISE_HEADER, *reversed(out)]) + "\n")
    return path


def write_fiverr(path: Path, rows: int, seed: int = 9) -> Path:
    """A Fiverr earnings export, newest first: cleared order revenue, Promoted Gigs, and every
    fifth row a withdrawal to PayPal followed by its fee."""
    rng = random.Random(seed)
    out = []
    for i, day in enumerate(_days(rng, rows)):
        date = f'"{day.strftime("%b %d, %Y")}"'
        if i % 5 == 4:
            cents = rng.randrange(5_000, 50_000)
            out.append(f"{date},Withdrawal,Withdrawal to PayPal,,,-${_money(cents)}")
            out.append(f"{date},Withdrawal fee,PayPal withdrawal processing fee,,,-$2.00")
        elif i % 11 == 10:
            out.append(f"{date},Expense,Promoted Gigs,,,-${_money(rng.randrange(500, 3_000))}")
        else:
            order = f"FO{rng.randrange(16**10):010X}"
            out.append(f"{date},Earning,Revenue for Order Completion,buyer_{rng.randrange(60)},"
                       f"{order},${_money(rng.randrange(1_000, 40_000))}")
    path.write_text("\n".join(["Date,Activity,Description,From,Order,Amount",
                               *reversed(out)]) + "\n")
    return path


def write_five(folder: Path) -> list[Path]:
    """The six exports in `folder` (made if missing), in import order."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.gen_bank import write_hdfc
    from bench.gen_payoneer import write_payoneer
    from bench.generate import write_paypal, write_upwork

    folder.mkdir(parents=True, exist_ok=True)
    seconds = DAYS * 86_400 // SIZES["payoneer"]
    return [
        write_paypal(folder / "paypal.csv", SIZES["paypal"], start=START, days=DAYS),
        write_upwork(folder / "upwork.csv", SIZES["upwork"], start=START, days=DAYS),
        write_payoneer(folder / "payoneer.csv", SIZES["payoneer"],
                       start=dt.datetime(2021, 1, 1, 8), gap=(seconds // 2, seconds * 3 // 2)),
        write_hdfc(folder / "hdfc.csv", SIZES["hdfc"], start=START,
                   next_day=DAYS / SIZES["hdfc"]),
        write_wise(folder / "wise.csv", SIZES["wise"]),
        write_fiverr(folder / "fiverr.csv", SIZES["fiverr"]),
    ]


if __name__ == "__main__":
    print("\n".join(str(p) for p in write_five(Path(sys.argv[1]))))
