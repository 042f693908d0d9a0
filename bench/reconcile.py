"""`make bench` (reconcile): `ledger reconcile` over a 1M-row ledger with ~50k transfers.

The ledger is generated (seeded) as canonical rows and written through the store (the same
parquet, ids and validation an import produces; the importers have their own bench rows):
two years of earnings with their platform and payment fees as filler, and payout chains in
the shapes `ledger reconcile` exists for (each amount random, so chance look-alikes exist):

- Upwork -> Payoneer -> bank PKR (`[delivered X PKR]`, withdrawal fees, tax on arrival);
- PayPal -> bank PHP at the reference rate (spread 0.5-2.5%);
- Upwork direct -> bank INR, the credit naming the withdrawal's ref;
- Payoneer -> bank USD, intermediary deductions;
- Payoneer -> bank PKR arriving in 2-4 parts;
- withdrawals that never arrived, credits of unknown origin.

Then `ledger reconcile --from --to --format json` over the whole span runs as a fresh process
(wall seconds and peak RSS, like bench/run.py), against a bare polars read of the same
ledger's transfers as the baseline, and the JSON is checked against what was generated (chains
found, parts matched), so a fast wrong answer does not pass for a figure.

Usage: python bench/reconcile.py [--rows N] [--transfers N] [--repeat K] [--regenerate]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import sys
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
OUT = HERE / "out"
END = dt.date(2024, 12, 31)
AS_OF = "2025-01-31"
TARGET_S = 10.0
YEARS = 10
CENT = Decimal("0.01")
MIX = {"upwork_payoneer_pkr": 0.40, "paypal_php": 0.20, "upwork_inr": 0.10,
       "payoneer_usd": 0.10, "split_pkr": 0.12, "missing": 0.04, "unknown": 0.04}
"""Share of the transfers in each shape."""
TRANSFERS_PER = {"upwork_payoneer_pkr": 4, "paypal_php": 2, "upwork_inr": 2,
                 "payoneer_usd": 2, "split_pkr": 4, "missing": 1, "unknown": 1}
"""Transfer rows one case of each shape makes (a split: one withdrawal, three parts on average)."""
BASE_RATE = {"PKR": Decimal("278"), "PHP": Decimal("56.5"), "INR": Decimal("83.2")}


def span(years: int) -> tuple[dt.date, int]:
    """First day and number of days of `years` years ending on END."""
    start = dt.date(END.year - years + 1, 1, 1)
    return start, (END - start).days + 1


def rates(rng: random.Random, start: dt.date, days: int) -> dict[tuple[dt.date, str], Decimal]:
    """A daily USD rate per currency, a small random walk around BASE_RATE."""
    out = {}
    for ccy, base in BASE_RATE.items():
        level = base
        for n in range(days + 10):
            level = (level * (1 + Decimal(rng.randint(-20, 20)) / 10_000)).quantize(
                Decimal("0.0001"))
            out[(start + dt.timedelta(days=n), ccy)] = level
    return out


class Rows:
    """Canonical rows as column lists, with unique refs."""

    def __init__(self) -> None:
        self.cols: dict[str, list] = {k: [] for k in (
            "date", "source", "kind", "category", "amount", "currency", "description", "ref",
            "related_ref", "counterparty", "counter_amount", "counter_currency")}
        self.case: list[int] = []
        """Which generated case (a chain, a missing arrival...) each row belongs to."""
        self.n = 0
        self.current = 0

    def add(self, date: dt.date, source: str, kind: str, amount: Decimal, currency: str,
            description: str, *, category: str | None = None, related_ref: str | None = None,
            counterparty: str | None = None, ref: str | None = "auto",
            delivered: tuple[Decimal, str] | None = None) -> str:
        self.n += 1
        ref = f"R{self.n:09d}" if ref == "auto" else ref
        self.case.append(self.current)
        for key, value in (("date", date), ("source", source), ("kind", kind),
                           ("category", category), ("amount", str(amount)),
                           ("currency", currency), ("description", description), ("ref", ref),
                           ("related_ref", related_ref), ("counterparty", counterparty),
                           ("counter_amount", str(delivered[0]) if delivered else None),
                           ("counter_currency", delivered[1] if delivered else None)):
            self.cols[key].append(value)
        return ref or ""


def chains(rng: random.Random, transfers: int, fx: dict, start: dt.date, days: int,
           ) -> tuple[Rows, dict[str, int]]:
    """The transfer shapes of the module docstring; returns the rows and how many of each."""
    rows = Rows()
    counts = {shape: round(transfers * share / TRANSFERS_PER[shape])
              for shape, share in MIX.items()}

    def day(spare: int = 12) -> dt.date:
        return start + dt.timedelta(days=rng.randrange(days - spare))

    def usd() -> Decimal:
        return Decimal(rng.randrange(5_000, 500_000)) / 100

    def later(date: dt.date, low: int, high: int) -> dt.date:
        return date + dt.timedelta(days=rng.randint(low, high))

    for _ in range(counts["upwork_payoneer_pkr"]):
        rows.current += 1
        d, x = day(), usd()
        ref = rows.add(d, "upwork", "transfer", -x, "USD", "Withdrawal Request: Payoneer",
                       category="withdrawal")
        rows.add(d, "upwork", "payment_fee", Decimal("-0.99"), "USD", "Withdrawal Fee",
                 category="withdrawal_fee", related_ref=ref)
        got = later(d, 1, 2)
        rows.add(got, "payoneer", "transfer", x, "USD", "Payment from Upwork")
        out = later(got, 0, 3)
        pkr = (x * fx[(out, "PKR")] * (1 - Decimal(rng.randint(5, 25)) / 1000)).quantize(CENT)
        pref = rows.add(out, "payoneer", "transfer", -x, "USD",
                        f"Transfer to bank [delivered {pkr} PKR]", delivered=(pkr, "PKR"))
        rows.add(out, "payoneer", "payment_fee", Decimal("-3"), "USD", "Withdrawal fee",
                 category="withdrawal_fee", related_ref=pref)
        arrive = later(out, 1, 3)
        bref = rows.add(arrive, "bank:meezan", "transfer", pkr, "PKR",
                        "Inward Remittance PAYONEER INC")
        rows.add(arrive, "bank:meezan", "tax", -(pkr / 1000).quantize(CENT), "PKR",
                 "WHT 0.1%", category="wht", related_ref=bref)
    for _ in range(counts["paypal_php"]):
        rows.current += 1
        d, x = day(), usd()
        rows.add(d, "paypal", "transfer", -x, "USD", "General Withdrawal - BDO ****1234",
                 category="withdrawal")
        php = (x * fx[(d, "PHP")] * (1 - Decimal(rng.randint(5, 25)) / 1000)).quantize(CENT)
        rows.add(later(d, 2, 6), "bank:bdo", "transfer", php, "PHP",
                 "INWARD REMITTANCE PAYPAL")
    for _ in range(counts["upwork_inr"]):
        rows.current += 1
        d, x = day(), usd()
        ref = rows.add(d, "upwork", "transfer", -x, "USD",
                       "Withdrawal Request: Direct to Local Bank: xxxx-4417",
                       category="withdrawal")
        rows.add(d, "upwork", "payment_fee", Decimal("-0.99"), "USD", "Withdrawal Fee",
                 category="withdrawal_fee", related_ref=ref)
        inr = (x * fx[(d, "INR")] * (1 - Decimal(rng.randint(5, 25)) / 1000)).quantize(CENT)
        rows.add(later(d, 2, 5), "bank:hdfc", "transfer", inr, "INR",
                 f"NEFT CR UPWORK GLOBAL {ref}")
    for _ in range(counts["payoneer_usd"]):
        rows.current += 1
        d, x = day(), usd()
        rows.add(d, "payoneer", "transfer", -x, "USD", "Transfer to bank account")
        rows.add(later(d, 1, 3), "bank:hbl-usd", "transfer",
                 x - Decimal(rng.randint(0, 1500)) / 100, "USD",
                 "Inward Remittance PAYONEER INC")
    for _ in range(counts["split_pkr"]):
        rows.current += 1
        d, x = day(), usd()
        pkr = (x * fx[(d, "PKR")] * (1 - Decimal(rng.randint(5, 25)) / 1000)).quantize(CENT)
        rows.add(d, "payoneer", "transfer", -x, "USD", f"Transfer to bank [delivered {pkr} PKR]",
                 delivered=(pkr, "PKR"))
        parts = rng.randint(2, 4)
        cuts = sorted(rng.sample(range(1, int(pkr * 100)), parts - 1))
        for a, b in zip([0, *cuts], [*cuts, int(pkr * 100)], strict=True):
            rows.add(later(d, 1, 4), "bank:meezan", "transfer", Decimal(b - a) / 100, "PKR",
                     "Inward Remittance PAYONEER INC part")
    for _ in range(counts["missing"]):
        rows.current += 1
        rows.add(day(), rng.choice(["upwork", "payoneer"]), "transfer", -usd(), "USD",
                 "Withdrawal Request: Direct to Local Bank")
    for _ in range(counts["unknown"]):
        rows.current += 1
        rows.add(day(), "bank:meezan", "transfer",
                 Decimal(rng.randrange(100_000, 50_000_000)) / 100, "PKR", "IBFT from someone")
    return rows, counts


def filler(rng: random.Random, count: int, start: dt.date, days: int):
    """Earnings and their fees (Upwork service fee, PayPal fee): what most rows of a real
    ledger are, and what the fee matching of reconcile has to wade through."""
    import polars as pl

    pairs = count // 2
    cents = pl.Series([rng.randrange(1_000, 200_000) for _ in range(pairs)], dtype=pl.Int64)
    base = pl.DataFrame({"i": pl.int_range(0, pairs, eager=True), "cents": cents}).with_columns(
        source=pl.when(pl.col("i") % 3 == 0).then(pl.lit("paypal")).otherwise(pl.lit("upwork")),
        date=pl.lit(start) + pl.duration(days=(pl.col("i") * days // pairs)),
        ref=pl.lit("E") + pl.col("i").cast(pl.String).str.zfill(9))
    earning = base.select(
        "date", "source", pl.lit("earning").alias("kind"), pl.lit("services").alias("category"),
        pl.col("cents").alias("c"), pl.lit("USD").alias("currency"),
        pl.lit("Invoice for hours").alias("description"), "ref",
        pl.lit(None, dtype=pl.String).alias("related_ref"),
        (pl.lit("Client ") + (pl.col("i") % 997).cast(pl.String)).alias("counterparty"))
    fee = base.select(
        "date", "source",
        pl.when(pl.col("source") == "upwork").then(pl.lit("platform_fee"))
        .otherwise(pl.lit("payment_fee")).alias("kind"),
        pl.lit("service_fee").alias("category"),
        (-(pl.col("cents") // 10)).alias("c"), pl.lit("USD").alias("currency"),
        pl.lit("Service Fee").alias("description"),
        (pl.lit("F") + pl.col("i").cast(pl.String).str.zfill(9)).alias("ref"),
        pl.col("ref").alias("related_ref"),
        pl.lit(None, dtype=pl.String).alias("counterparty"))
    out = pl.concat([earning, fee])
    return out.with_columns(
        (pl.col("c").cast(pl.Decimal(38, 4)) / 100).cast(pl.Decimal(38, 4)).alias("amount")
    ).drop("c")


def build(root: Path, total: int, transfers: int, years: int, seed: int = 2024) -> dict:
    """Write the ledger directory (ledger.parquet through the store, rates.csv)."""
    import polars as pl

    sys.path.insert(0, str(ROOT))
    from ledger.core import schema
    from ledger.store.directory import Ledger

    rng = random.Random(seed)
    start, days = span(years)
    fx = rates(rng, start, days)
    made, counts = chains(rng, transfers, fx, start, days)
    chain_df = pl.DataFrame({**made.cols, "case": made.case},
                            schema_overrides={"amount": pl.String, "counter_amount": pl.String,
                                              "counter_currency": pl.String}).with_columns(
        pl.col("amount", "counter_amount").cast(pl.Decimal(38, 4)))
    rest = filler(rng, max(0, total - chain_df.height), start, days)
    df = pl.concat([chain_df, rest.with_columns(
        pl.lit(0).alias("case"), counter_amount=pl.lit(None, dtype=pl.Decimal(38, 4)),
        counter_currency=pl.lit(None, dtype=pl.String)).select(chain_df.columns)],
        how="vertical_relaxed")
    df = df.sort("date", maintain_order=True).with_columns(
        pl.col("source").alias("account"), pl.lit("source").alias("origin"),
        pl.lit("b" * 64).alias("import_id"), pl.int_range(1, pl.len() + 1).alias("line"),
        pl.lit("").alias("id"))
    cases = df["case"]
    df = schema.validate(schema.with_ids(schema.conform(df)), "bench")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    Ledger(root).commit(df, [])
    lines = ["date,from,to,rate"] + [f"{d.isoformat()},USD,{c},{r}"
                                     for (d, c), r in sorted(fx.items())]
    (root / "rates.csv").write_text("\n".join(lines) + "\n", "utf-8")
    pl.DataFrame({"id": df["id"], "case": cases}).filter(pl.col("case") > 0).write_parquet(
        root / "cases.parquet")
    stats = {"rows": df.height, "transfers": int((df["kind"] == "transfer").sum()), **counts}
    (root / "bench.json").write_text(json.dumps(stats), "utf-8")
    return stats


def check(data: dict, stats: dict, cases: dict[str, int]) -> str:
    """What the run found against what was generated: a fast wrong answer is no figure.
    A hop is right when its withdrawal and every credit come from one generated case."""
    hops = [h for c in data["chains"] for h in c["hops"]]
    wrong = sum(len({cases.get(i) for i in [h["out"], *h["in"]]}) != 1 for h in hops)
    splits = sum(h["evidence"]["rule"] == "split_credit" for h in hops)
    expected = (stats["upwork_payoneer_pkr"] + stats["paypal_php"] + stats["upwork_inr"]
                + stats["payoneer_usd"] + stats["split_pkr"])
    two_hop = sum(len(c["hops"]) == 2 for c in data["chains"])
    return (f"hops {len(hops):,} ({wrong:,} wrong), "
            f"chains {len(data['chains']):,} of {expected:,} generated ({two_hop:,} of "
            f"{stats['upwork_payoneer_pkr']:,} two-hop), splits {splits:,} of "
            f"{stats['split_pkr']:,}, in transit {len(data['in_transit']):,} (never arrived: "
            f"{stats['missing']:,}), unknown origin {len(data['unknown_origin']):,} "
            f"({stats['unknown']:,} generated), ambiguous {len(data['ambiguous']):,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--transfers", type=int, default=50_000)
    parser.add_argument("--years", type=int, default=YEARS,
                        help="span of the ledger, ending 2024-12-31")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.run import LEDGER, PY, _print, bare_report, measure
    from ledger.core.schema import VERSION

    # a ledger generated for an older rows version is refused: the name tells them apart
    root = OUT / f"ledger-reconcile-{args.rows}-{args.transfers}-{args.years}y-v{VERSION}"
    if args.regenerate or not (root / "bench.json").exists():
        print(f"generating {root.name} ...", file=sys.stderr)
        build(root, args.rows, args.transfers, args.years)
    stats = json.loads((root / "bench.json").read_text("utf-8"))
    first, last = span(args.years)[0].isoformat(), END.isoformat()
    result = root.parent / f"{root.name}.json"
    ours = measure([*LEDGER, "--ledger", str(root), "reconcile", "--from", first, "--to", last,
                    "--as-of", AS_OF, "--format", "json", "-o", str(result)], args.repeat)
    base = measure([*PY, "import polars as pl; pl.read_parquet("
                    f"{str(root / 'ledger.parquet')!r}, glob=False)"
                    ".filter(pl.col('kind') == 'transfer')"],
                   args.repeat)
    # the monthly report reconciles its month and charges the chains' costs back to the
    # earnings that funded them (FIFO over the whole ledger): against a bare month group_by
    month = END.strftime("%Y-%m")
    report = measure([*LEDGER, "--ledger", str(root), "report", "--month", month,
                      "--format", "json", "-o", str(root.parent / f"{root.name}-report.json")],
                     args.repeat)
    bare = measure(bare_report(root / "ledger.parquet", month), args.repeat)
    size = (root / "ledger.parquet").stat().st_size / 2**20
    _print([(f"reconcile {stats['rows']:,} rows, {stats['transfers']:,} transfers, "
             f"{args.years} years "
             "(vs reading its transfers)", ours, base, f"< {TARGET_S:.0f} s", size),
            (f"report --month {month} of that ledger, with payout-cost attribution "
             "(vs a bare group_by)", report, bare, "", size)])
    import polars as pl

    cases = dict(pl.read_parquet(root / "cases.parquet", glob=False).iter_rows())
    print(check(json.loads(result.read_text("utf-8")), stats, cases))


if __name__ == "__main__":
    main()
