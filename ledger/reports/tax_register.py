"""The remittance register of a tax year (`ledger tax-register`, schema `ledger.tax_register/1`):
one line per inward remittance into the user's local bank accounts, with what an accountant
needs to file from it. Pakistan's reduced final tax on IT export proceeds, India's FIRA/FIRC
and Bangladesh's exemption all turn on proving each credit came through a bank: the bank's
reference (the PRC/FIRA key) and the chain of withdrawals behind it are that proof.

Built from what the ledger already knows: the bank's credit rows, `ledger reconcile`'s hops
and chains (which withdrawal each credit was), `ledger.attribution`'s first-in-first-out
shares (whose earnings the money was) and `ledger report` for the same period (whose figures
the register reconciles to). Credits no withdrawal explains are listed apart; earnings that
had not reached a local bank at the year end are listed with their value then.

Money stays Decimal; figures are rounded once, when presented.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    from ledger.reconcile import Hop, Result
    from ledger.reports.report import Period
    from ledger.store.directory import Ledger

SCHEMA = "ledger.tax_register/1"
LOOKBACK = dt.timedelta(days=62)
"""Chains are looked for from this long before the year: a credit early in the year may end
a chain that left a platform in the year before."""
NOT_ADVICE = ("This is a register of your inward remittances to file from, built from your own "
              "statements: it is not tax advice. Check each figure against the bank's "
              "certificate (PRC, FIRA/FIRC) and ask a tax adviser what applies to you.")


def _is_bank(source: pl.Expr) -> pl.Expr:
    from ledger.core.providers import BANK_FORMATS

    return source.str.starts_with("bank:") | source.is_in(BANK_FORMATS)


def credits(rows: pl.DataFrame, period: Period) -> pl.DataFrame:
    """Money into the user's bank accounts in the period (transfer rows, positive), with the
    bank charges and taxes that belong to each: a charge naming the credit's ref, else one on
    the same account, day and currency (the first credit of that day), as reconcile ties
    them. Columns of the rows plus `charges` and `tax` (positive)."""
    import polars as pl

    dec = pl.Decimal(38, 4)
    bank = rows.filter(_is_bank(pl.col("source")))
    ins = bank.filter((pl.col("kind") == "transfer") & (pl.col("amount") > 0)
                      & pl.col("date").is_between(period.start, period.end))
    costs = bank.filter(pl.col("kind").is_in(["bank_fee", "tax"]) & (pl.col("amount") < 0)
                        ).select("id", "account", "date", "currency", "kind", "related_ref",
                                 (-pl.col("amount")).alias("fee"))
    anchors = ins.select(pl.col("id").alias("anchor"), "account", "date", "currency", "ref")
    by_ref = costs.filter(pl.col("related_ref").is_not_null()).join(
        anchors.filter(pl.col("ref").is_not_null()).rename({"ref": "related_ref"}),
        on=["account", "related_ref", "currency"], how="inner")
    rest = costs.join(by_ref.select("id"), on="id", how="anti").filter(
        pl.col("related_ref").is_null())
    same_day = rest.join(anchors.sort("anchor").unique(["account", "date"], keep="first")
                         .drop("ref"), on=["account", "date", "currency"], how="inner")
    tied = pl.concat([by_ref.select("id", "anchor", "kind", "fee"),
                      same_day.select("id", "anchor", "kind", "fee")]).unique("id", keep="first")
    sums = tied.group_by("anchor").agg(
        pl.col("fee").filter(pl.col("kind") == "bank_fee").sum().cast(dec).alias("charges"),
        pl.col("fee").filter(pl.col("kind") == "tax").sum().cast(dec).alias("tax"),
        pl.col("id").filter(pl.col("kind") == "tax").alias("tax_ids"))
    return ins.join(sums, left_on="id", right_on="anchor", how="left").with_columns(
        pl.col("charges").fill_null(Decimal(0)), pl.col("tax").fill_null(Decimal(0))
    ).sort("date", "account", "line", "id")


def _chains(result: Result) -> dict[str, list[Hop]]:
    """Credit id -> the hops that brought it, first withdrawal first. Chains from the
    reconcile result, and any matched hop of the scope not in one as a chain of itself."""
    behind: dict[str, list[Hop]] = {}
    for hop in result.hops:
        for item in hop.ins:
            behind[item["in_id"]] = [hop]
    for c in result.chains:
        for item in c.hops[-1].ins:
            behind[item["in_id"]] = list(c.hops)
    return behind


def _path(hops: list[Hop]) -> str:
    steps = [f"{h.out['out_account']} {h.out['out_date']:%Y-%m-%d}" for h in hops]
    last = hops[-1]
    arrived = max(i["in_date"] for i in last.ins)
    return " → ".join([*steps, f"{last.ins[0]['in_account']} {arrived:%Y-%m-%d}"])


def build(ledger: Ledger, period: Period, currency: str | None = None,
          online: bool = False) -> dict:
    """The register for `period` (a tax year) as a JSON-ready dict."""
    import polars as pl

    from ledger import reconcile
    from ledger.core.errors import DataError
    from ledger.core.fiscal import YEARS
    from ledger.counting import attribution
    from ledger.reports import report as report_mod
    from rules.fees import Schedule
    from rules.fx import FxChain

    rows = ledger.rows()
    if rows.is_empty():
        raise DataError("the ledger is empty", path=ledger.root,
                        hint="import exports first: ledger import FILE")
    cur = report_mod.report_currency(ledger, currency)
    from ledger.core.config import reading_locale

    country = (ledger.settings().country or "").upper() or None
    chain = FxChain.for_ledger(rows, ledger.rates_path, online=online)
    report = report_mod.build(ledger, period, currency=cur, online=online, rows=rows, chain=chain)
    result = reconcile.for_ledger(ledger, (period.start - LOOKBACK, period.end), rows=rows,
                                  chain=chain, as_of=period.end)
    behind = _chains(result)
    found = credits(rows, period)
    weights = attribution.shares(rows.filter(pl.col("date") <= period.end), result.pairs)
    carried: dict[str, list[tuple[str | None, str | None, float]]] = {}
    for consumer, platform, client, _home, weight in weights.iter_rows():
        carried.setdefault(consumer, []).append((platform, client, weight))
    needs = {(r["date"], r["currency"]) for r in found.iter_rows(named=True)}
    rates = chain.rates_for(needs, cur)
    schedule = Schedule.for_ledger(ledger)
    files = {e["import_id"]: e.get("file") for e in ledger.active_imports()}
    warnings: list[str] = []
    if country not in YEARS:
        warnings.append(f"no tax year is known for {country or 'your country'}: the calendar "
                        "year is used (set country in ledger.toml; docs/tax-year.md)")
    traced: list[dict] = []
    untraced: list[dict] = []
    rules: dict[str, dict] = {}
    for r in found.iter_rows(named=True):
        item, exact = _line(r, behind.get(r["id"]), carried, files, cur, rates, warnings)
        rule = _tax_rule(schedule, r["date"], country)
        if rule is not None:
            rules.setdefault(rule.id, {k: rule.as_dict().get(k) for k in
                                       ("id", "rule", "source", "confidence", "note")})
            item["tax_rule"] = rule.id
            item["tax_rule_rate"] = _rule_rate(rule, schedule.options.tax_status)
        (traced if item["chain"] else untraced).append(item | {"_exact": exact})
    months = _months(traced, cur)
    totals = {"traced": _sum(traced, cur), "untraced": _sum(untraced, cur),
              "all": _sum(traced + untraced, cur)}
    abroad = _not_home(rows, result, chain, period, cur, warnings)
    out = {
        "schema": SCHEMA,
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat(),
                   "label": period.label},
        "country": country,
        "currency": cur,
        "locale": reading_locale(ledger),
        "ledger_span": {"from": rows["date"].min().isoformat(),
                        "to": rows["date"].max().isoformat()},
        "notice": NOT_ADVICE,
        "remittances": [_clean(i) for i in traced],
        "untraced": [_clean(i) for i in untraced],
        "months": months,
        "totals": totals,
        "not_home": abroad,
        "reconciliation": _reconcile(report, totals, abroad, cur),
        "report_totals": {k: report["totals"][k] for k in ("gross", "taxes", "bank_deductions",
                                                           "net")},
        "rules": list(rules.values()) + _report_tax_rules(report),
        "method": ("credits: transfer rows into bank accounts in the period; chain: ledger "
                   "reconcile's matched hops (docs/reconcile.md); earnings carried: "
                   + attribution.METHOD + " (docs/attribution.md)"),
        "warnings": list(dict.fromkeys(warnings + report["warnings"])),
    }
    return out


def _line(r: dict, hops: list[Hop] | None, carried: dict, files: dict, cur: str,
          rates: dict[tuple[dt.date, str], Decimal], warnings: list[str]
          ) -> tuple[dict, dict]:
    """One register line (presented strings) and its exact figures in the register currency
    (`rates`: FxChain.rates_for the credits' dates and currencies)."""
    from ledger.core.money import format_money

    amount, charges, tax = Decimal(r["amount"]), Decimal(r["charges"]), Decimal(r["tax"])
    rate = rates.get((r["date"], r["currency"]))
    exact = {}
    for key, figure in (("local", amount), ("charges", charges), ("tax", tax)):
        if rate is None:
            warnings.append(f"no {r['currency']}->{cur} rate for {r['date']}: the credit of "
                            f"{r['date']} is left out of the totals")
            got = Decimal(0)
        else:
            got = figure * rate
        exact[key] = got
    exact["net"] = exact["local"] - exact["charges"] - exact["tax"]
    item: dict = {
        "date": r["date"].isoformat(), "bank": r["account"], "bank_ref": r["ref"],
        "statement": f"{files.get(r['import_id']) or r['import_id'][:12]}:{r['line']}",
        "description": r["description"], "id": r["id"],
        "amount": format_money(amount, r["currency"]), "currency": r["currency"],
        "charges": format_money(charges, r["currency"]),
        "tax": format_money(tax, r["currency"]),
        "net": format_money(amount - charges - tax, r["currency"]),
        "value": format_money(exact["local"], cur),
        "tax_rate": f"{(tax / amount).quantize(Decimal('0.000001')).normalize():f}"
        if amount else None, "tax_rule": None, "tax_rule_rate": None,
        "chain": None, "from": None, "chain_id": None, "foreign_amount": None,
        "foreign_currency": None, "rate": None, "reference_rate": None, "rate_source": None,
        "match": None, "carried": []}
    if not hops:
        return item, exact
    last = hops[-1]
    sent, sent_ccy = Decimal(last.out["sent"]), last.out["out_ccy"]
    received = sum((Decimal(i["received"]) for i in last.ins), Decimal(0))
    share = amount / received if received else Decimal(1)
    foreign = sent * share
    item |= {"chain": _path(hops), "from": last.out["out_account"],
             "chain_id": hops[0].out["out_id"],
             "foreign_amount": format_money(foreign, sent_ccy), "foreign_currency": sent_ccy,
             "match": f"{last.rule} ({last.confidence})"}
    if sent_ccy != r["currency"] and sent:
        item["rate"] = f"{(received / sent).quantize(Decimal('0.0001')).normalize():f}"
        item["rate_source"] = "credited ÷ sent (the bank's rate, charges before)"
        if last.rate is not None:
            item["reference_rate"] = f"{Decimal(last.rate).normalize():f}"
            item["rate_source"] += f"; reference {last.rate_provider}"
    parts = carried.get(hops[0].out["out_id"], [])
    for platform, client, weight in sorted(parts, key=lambda p: -p[2]):
        item["carried"].append({
            "platform": platform or "untraced", "client": client,
            "share": f"{weight:.4f}",
            "amount": format_money(exact["local"] * Decimal(repr(weight)), cur)})
    return item, exact


def _rule_rate(rule, status: str | None) -> str | None:
    """The rule's rate for the ledger's tax status (`[fees.options] tax_status`), as a
    fraction string; None when it has no single rate."""
    from ledger.core.errors import UsageError
    from rules.fees import status_rate

    try:
        rate = status_rate(rule, status) if rule.type == "by_status" else rule.rate
    except UsageError:  # a status the rule does not know: the rule is still named
        return None
    return None if rate is None else f"{Decimal(rate).normalize():f}"


def _tax_rule(schedule, date: dt.date, country: str | None):
    if not country:
        return None
    booked = "home_remittance" if schedule.options.tax_status == "home_remittance" \
        else "it_export"  # as `ledger quote` chooses the rule
    return schedule.find("deductions", "export_wht", date, country=country, booked_as=booked)


def _sum(items: list[dict], cur: str) -> dict:
    from ledger.core.money import format_money

    out = {"count": len(items)}
    for key in ("local", "charges", "tax", "net"):
        out[key] = format_money(sum((i["_exact"][key] for i in items), Decimal(0)), cur)
    return out


def _months(items: list[dict], cur: str) -> list[dict]:
    by: dict[str, list[dict]] = {}
    for i in items:
        by.setdefault(i["date"][:7], []).append(i)
    return [{"month": m} | _sum(by[m], cur) for m in sorted(by)]


def _clean(item: dict) -> dict:
    return {k: v for k, v in item.items() if k != "_exact"}


def _not_home(rows: pl.DataFrame, result: Result, chain, period: Period, cur: str,
              warnings: list[str]) -> dict:
    """Money earned but not in a local bank at the year end, and at its start: balances of
    platform and wallet accounts (every row up to that day) and withdrawals that had left
    but not arrived, each valued that day: at the latest rate dated on or before it (a day
    without one, a weekend, takes the last before it; never a rate published after the year
    end), its provider and date named."""
    import polars as pl

    from ledger.core.money import format_money

    out: dict = {}
    for side, day in (("start", period.start - dt.timedelta(days=1)), ("end", period.end)):
        items = _balances(rows, day) + _in_transit(result, day)
        foreign = sorted({i["currency"] for i in items} - {cur})
        rates: dict[str, tuple[Decimal, str]] = {}
        if foreign:
            needs = pl.DataFrame({"date": [day] * len(foreign), "currency": foreign},
                                 schema={"date": pl.Date, "currency": pl.String})
            for ccy, rate, provider, rate_date in chain.lookup(
                    needs, cur, on_or_before=True).select(
                    "currency", "rate", "provider", "rate_date").iter_rows():
                if rate is not None:
                    rates[ccy] = (Decimal(rate), f"{provider} {rate_date}")
        total = Decimal(0)
        for i in items:
            rate, source = (Decimal(1), None) if i["currency"] == cur else \
                rates.get(i["currency"], (None, None))
            if rate is None:
                warnings.append(f"no {i['currency']}->{cur} rate for {day}: "
                                f"{i['account']} is left out of the money not home")
                rate = Decimal(0)
            got = Decimal(i["amount"]) * rate
            i |= {"value": format_money(got, cur), "rate": None if source is None else
                  f"{rate.normalize():f}", "rate_source": source}
            total += got
        out[side] = {"date": day.isoformat(), "items": items,
                     "total": format_money(total, cur), "_total": total}
    return out


def _balances(rows: pl.DataFrame, day: dt.date) -> list[dict]:
    import polars as pl

    from ledger.core.money import format_money

    held = rows.filter((pl.col("date") <= day) & ~_is_bank(pl.col("source"))).group_by(
        "account", "currency").agg(pl.col("amount").sum()).filter(pl.col("amount") > 0
                                                                  ).sort("account", "currency")
    return [{"what": "balance", "account": a, "amount": format_money(Decimal(v), c),
             "currency": c, "sent": None, "since": None, "to": None, "arrived": None}
            for a, c, v in held.iter_rows()]


def _in_transit(result: Result, day: dt.date) -> list[dict]:
    """Withdrawals sent by `day` that reached their account only after it (a matched hop,
    at what it delivered), or never (reconcile's unmatched withdrawals, at what was sent)."""
    from ledger.core.money import format_money

    out = []
    for hop in result.hops:
        arrived = min(i["in_date"] for i in hop.ins)
        if hop.out["out_date"] <= day < arrived:
            # what it delivered: the report counted a conversion's spread when it left
            received = sum((Decimal(i["received"]) for i in hop.ins), Decimal(0))
            out.append({"what": "in transit", "account": hop.out["out_account"],
                        "amount": format_money(received, hop.in_ccy),
                        "currency": hop.in_ccy,
                        "sent": f"{format_money(Decimal(hop.out['sent']), hop.out['out_ccy'])}"
                                f" {hop.out['out_ccy']}",
                        "since": hop.out["out_date"].isoformat(),
                        "to": hop.ins[0]["in_account"], "arrived": arrived.isoformat()})
    for t in result.in_transit:
        if t["date"] <= day.isoformat():
            out.append({"what": f"sent, never arrived ({t['status']})", "account": t["account"],
                        "amount": format_money(Decimal(t["amount"]), t["currency"]),
                        "currency": t["currency"], "sent": None, "since": t["date"],
                        "to": None, "arrived": None})
    return out


def _reconcile(report: dict, totals: dict, abroad: dict, cur: str) -> dict:
    """The year's income against the year's remittances, line by line, in the register
    currency: net income (the report's), plus what was abroad at the start, minus what was
    abroad at the end, against what came home (net of charges and tax on arrival). What is
    left is named, never hidden: FX revaluation (income is valued at each day's rate, the
    balances at the year's ends) and money spent, kept or moved outside the ledger."""
    from ledger.core.money import format_money, round_money

    net = Decimal(report["totals"]["net"])
    start = round_money(abroad["start"].pop("_total"), cur)
    end = round_money(abroad["end"].pop("_total"), cur)
    expected = net + start - end
    home = Decimal(totals["traced"]["net"]) + Decimal(totals["untraced"]["net"])
    lines = [
        ("net_income", "Net income in the period (ledger report: gross minus every cost)", net),
        ("abroad_at_start", "+ Not home at the start (wallets, platforms, in transit)", start),
        ("abroad_at_end", "- Not home at the end (wallets, platforms, in transit)", -end),
        ("expected_home", "= Should have reached your local banks", expected),
        ("remitted_traced", "Inward remittances traced to platforms and wallets, net",
         Decimal(totals["traced"]["net"])),
        ("remitted_untraced", "+ Credits with no traceable origin, net",
         Decimal(totals["untraced"]["net"])),
        ("remitted", "= Reached your local banks, net of charges and tax on arrival", home),
        ("difference", "Difference: FX revaluation, money spent or kept abroad, rows missing",
         home - expected)]
    return {"lines": [{"key": k, "label": label, "amount": format_money(v, cur)}
                      for k, label, v in lines]}


def _report_tax_rules(report: dict) -> list[dict]:
    """Rules behind the report's tax and deduction figures (derived rows), as the report
    names them."""
    return [{k: r.get(k) for k in ("id", "rule", "source", "confidence", "note")}
            for r in report.get("rules", [])
            if any(line in r.get("figures", {}) for line in ("taxes", "bank_deductions"))]
