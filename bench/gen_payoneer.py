"""A seeded generator of realistic Payoneer 17-column exports, for `make bench`.

`write_payoneer(path, rows, seed)` writes `rows` data rows, oldest first, in the real layout:
platform receipts and client payments, withdrawals to a Pakistani bank (USD with the PKR
delivered in Transfer Amount) each followed by its fee at the same timestamp, card charges,
USD->EUR conversions as two legs, yearly account fees and the odd Pending row. Running
balances are exact per currency (integer cents), so the importer's balance check passes.
Same seed, same bytes.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

HEADER = ("Transaction Date,Transaction Time,Time Zone,Transaction ID,Description,Credit Amount,"
          "Debit Amount,Currency,Transfer Amount,Transfer Amount Currency,Status,Running Balance,"
          "Additional Description,Store Name,Source,Target,Reference ID")

PAYERS = ["Upwork Global Inc", "Fiverr International Ltd", "Freelancer Limited",
          "Acme Corp", "Beta LLC", "Gamma Studio GmbH"]
STORES = ["AWS EMEA", "Canva", "Figma", "Google Workspace", "Namecheap", "Adobe"]
BANKS = ["HBL ***1234", "Meezan Bank ***9876", "UBL ***4321"]


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def write_payoneer(path: str | Path, rows: int, seed: int = 0,
                   start: dt.datetime = dt.datetime(2016, 1, 1, 8, 0, 0),
                   gap: tuple[int, int] = (10, 400)) -> Path:
    """Write a `rows`-row Payoneer export to `path` and return the path: from `start`, each
    row `gap` seconds (at random within it) after the one before."""
    rng = random.Random(seed)
    balance = {"USD": 50_000, "EUR": 0}
    when = start
    next_id = 3_000_000_000
    last_fee_year = when.year
    out: list[str] = [HEADER]

    def emit(desc: str, cents: int, cur: str, *, status: str = "Completed", transfer: str = "",
             transfer_cur: str = "", extra: str = "", store: str = "", source: str = "",
             target: str = "", reference: str = "") -> None:
        nonlocal next_id
        next_id += 1
        credit, debit = (_money(cents), "") if cents >= 0 else ("", _money(-cents))
        running = ""
        if status == "Completed":
            balance[cur] += cents
            running = _money(balance[cur])
        out.append(",".join([
            when.strftime("%m/%d/%Y"), when.strftime("%H:%M:%S"), "UTC", str(next_id), desc,
            credit, debit, cur, transfer, transfer_cur, status, running, extra, store, source,
            target, reference]))

    while len(out) <= rows:
        when += dt.timedelta(seconds=rng.randint(*gap))
        room = rows + 1 - len(out)
        pick = rng.random()
        if when.year != last_fee_year:
            last_fee_year = when.year
            emit("Annual account fee", -2995, "USD", target="Payoneer")
        elif pick < 0.45 or balance["USD"] < 150_000 or room < 2:
            payer = rng.choice(PAYERS)
            cents = rng.randint(2_000, 150_000)
            status = "Pending" if rng.random() < 0.01 else "Completed"
            emit(f"Payment from {payer}", cents, "USD", status=status,
                 extra=f"Payment ID {rng.randint(10**7, 10**8)}", source=payer, target="Jane Doe")
        elif pick < 0.65:
            cents = rng.randint(50_000, min(balance["USD"] - 300, 500_000))
            pkr = cents * rng.randint(27_500, 28_200) // 100
            emit("Transfer to bank account", -cents, "USD", transfer=_money(pkr),
                 transfer_cur="PKR", extra="Withdrawal to local bank", source="Jane Doe",
                 target=rng.choice(BANKS))
            emit("Withdrawal fee", -300, "USD", source="Jane Doe", target="Payoneer")
        elif pick < 0.90:
            cur = "EUR" if balance["EUR"] > 5_000 and rng.random() < 0.3 else "USD"
            store = rng.choice(STORES)
            emit(f"Card charge - {store}", -rng.randint(99, 4_999), cur, store=store,
                 source="Jane Doe", target=store)
        else:
            cents = rng.randint(5_000, 50_000)
            eur = cents * rng.randint(88, 95) // 100
            emit("USD to EUR", -cents, "USD", transfer=_money(eur), transfer_cur="EUR",
                 extra="Currency conversion", source="Jane Doe", target="Jane Doe")
            emit("USD to EUR", eur, "EUR", transfer=_money(cents), transfer_cur="USD",
                 extra="Currency conversion", source="Jane Doe", target="Jane Doe")
    path = Path(path)
    path.write_text("\n".join(out[: rows + 1]) + "\n")
    return path


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    target = write_payoneer(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3
                            else 0)
    print(target)
