"""Generate a large HDFC-style bank statement CSV for the import benchmark.

`write_hdfc(path, rows, seed)` writes the netbanking CSV layout the `bank:hdfc` profile reads:
a preamble with the IFSC, the header, `rows` transactions in date order with Indian-grouped,
quoted amounts and a running balance that every row follows, then the statement summary
footer. The same seed gives the same file.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from decimal import Decimal
from pathlib import Path

HEADER = ("Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,"
          "Closing Balance")
CREDITS = ("NEFT CR-CITI0000002-PAYONEER INC-ASIF KHAN-CITIN{ref}",
           "FOREIGN INWARD REMITTANCE-UPWORK ESCROW INC-USD",
           "IMPS-{ref}-ACME LLC-HDFC-XXXXXXX1234-INVOICE",
           "CREDIT INTEREST CAPITALISED")
DEBITS = ("UPI-RAHUL SHARMA-RAHUL@OKHDFCBANK-HDFC0000001-{ref}-LOGO WORK",
          "POS 512345XXXXXX1234 AMAZON PAY INDIA",
          "ATW-512345XXXXXX1234-S1ANMU12-MUMBAI",
          "SMS CHARGES FOR QTR ENDED 31-03-24",
          "GST ON SMS CHARGES")


def indian(amount: Decimal) -> str:
    """`1,23,456.78`: the last three digits, then groups of two."""
    whole, cents = f"{amount:.2f}".split(".")
    head, tail = whole[:-3], whole[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return ",".join([*groups, tail]) + "." + cents


def write_hdfc(path: Path, rows: int, seed: int = 1, start: dt.date = dt.date(2020, 1, 1),
               next_day: float = 0.004) -> Path:
    """Write `rows` transactions from `start`, each on the next day with chance `next_day`;
    returns `path`."""
    rng = random.Random(seed)
    balance = Decimal("50000.00")
    day = start
    debits = credits = Decimal(0)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write("HDFC BANK Ltd.,,,,,,\nMR ASIF KHAN,,,,,,\nAccount No :50100123456789,,,,,,\n"
                  "IFSC :HDFC0001234,,,,,,\n,,,,,,\n" + HEADER + "\n")
        for i in range(rows):
            if rng.random() < next_day:
                day += dt.timedelta(days=1)
            ref = f"{rng.randrange(10**15):016d}"
            credit = rng.random() < 0.35 or balance < 5000
            cents = rng.randrange(1, 20_000_000) if credit else rng.randrange(1, 500_000)
            amount = Decimal(cents) / 100
            narration = rng.choice(CREDITS if credit else DEBITS).format(ref=ref[:12])
            if credit:
                balance += amount
                credits += amount
                w, d = "", f'"{indian(amount)}"'
            else:
                balance -= amount
                debits += amount
                w, d = f'"{indian(amount)}"', ""
            date = day.strftime("%d/%m/%y")
            out.write(f'{date},{narration} {i},{ref},{date},{w},{d},"{indian(balance)}"\n')
        out.write(",,,,,,\nSTATEMENT SUMMARY :-,,,,,,\n"
                  "Opening Balance,Dr Count,Cr Count,Debits,Credits,Closing Bal,\n"
                  f'"50,000.00",,,"{indian(debits)}","{indian(credits)}",'
                  f'"{indian(balance)}",\n')
    return path


if __name__ == "__main__":
    write_hdfc(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1)
