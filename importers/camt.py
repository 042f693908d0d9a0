"""ISO 20022 camt.053 bank-to-customer statements (XML; versions .001.02, .04, .08 and later).

A statement is untrusted input: defusedxml reads the prolog and refuses any DOCTYPE, so
entity declarations and external references (billion laughs, XXE) are a clean DataError,
never a hang or a file read; the DTD-free body is then streamed by ElementTree's C parser.
Tags are reduced to local names while streaming, so one reader serves every namespace
version. One row per booked entry (`Sts` or `Sts/Cd` = BOOK; pending and info
entries are counted, not booked):

- amount: `Amt` (always positive) signed by `CdtDbtInd` (CRDT +, DBIT -): the direction the
  booking moved the balance. `RvslInd=true` flips the meaning, not the sign (ISO: CdtDbtInd
  of a reversal is the reversal's own direction): a reversed credit is a `refund`, a
  reversed debit an `adjustment`. Opening (OPBD/PRCD) + booked entries must equal the
  closing balance (CLBD) of each statement.
- date `BookgDt/Dt` (or `/DtTm`); ref `AcctSvcrRef` (the entry's, else its first
  transaction's); description the joined `RmtInf/Ustrd` (else `Strd` creditor reference,
  `AddtlTxInf`, `AddtlNtryInf`); counterparty the payer (`Dbtr`) of a credit, the payee
  (`Cdtr`) of a debit, as `Nm` (.02/.04) or `Pty/Nm` (.08).
- charges (`Chrgs/Rcrd`, or `Chrgs` itself in .02) become `bank_fee` rows linked to the
  entry. A charge with `ChrgInclInd` true (the ISO default when absent) is already inside
  `Amt`: the entry row is the amount before it, so entry + fee rows equal the booked amount.
  A charge not included was booked elsewhere or paid by the other party: it is not booked
  here (counted and warned).
- kinds: bank codes `.../CHRG`, `/FEES`, `/COMM` -> bank_fee; else `statements.bank_kind`.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from importers.base import (
    Format,
    ImportOptions,
    Parsed,
    account_name,
    counts,
    finalize,
    first_bad,
    parse_money,
)
from importers.raw_files import RawFile
from importers.readers import LINE
from importers.statements import bank_kind, line_starts, ref_key
from ledger.core.errors import DataError

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

    import polars as pl

SOURCE = "camt053"

FEE_CODES = {"CHRG", "FEES", "COMM"}
"""Bank transaction sub-family codes of charges and commissions."""

_DETECT_ROOT = re.compile(r"<(?:[\w.-]+:)?Document[\s>]")
_DETECT_STMT = re.compile(
    r"<(?:[\w.-]+:)?BkToCstmr(?:Stmt|AcctRpt|DbtCdtNtfctn)(?:V\d+)?[\s>]")
"""camt.053 statements, and camt.052 account reports and camt.054 debit/credit notifications:
the same entries (`Ntry`) in a `Rpt` or `Ntfctn` instead of a `Stmt`, so one reader serves
all three, and an entry has the same id whichever message brought it."""
_NTRY = re.compile(rb"<(?:[\w.-]+:)?Ntry[\s>]")
_BAL = re.compile(rb"<(?:[\w.-]+:)?Bal[\s>]")
_AMOUNT = re.compile(r"^\d+(\.\d+)?$")
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}(T[\d:.]+)?(Z|[+-]\d{2}:\d{2})?$"
"""ISODate or ISODateTime, with the UTC offset XML Schema allows (`2017-04-01+02:00`): the
date is the bank's own day, so the offset is not applied."""


def detect(raw: RawFile) -> bool:
    head = raw.head_text
    return bool(_DETECT_ROOT.search(head) and _DETECT_STMT.search(head))


# --- element helpers (tags are reduced to local names while streaming) ----------------------


def _get(elem: Element | None, *names: str) -> Element | None:
    """The first element down a path of child names (each step a C-speed `find`)."""
    for name in names:
        if elem is None:
            return None
        elem = elem.find(name)
    return elem


def _text(elem: Element | None, *names: str) -> str | None:
    """Stripped text at a path of child names, or None when absent or blank."""
    elem = _get(elem, *names[:-1])
    value = None if elem is None else elem.findtext(names[-1])
    value = value.strip() if value else ""
    return value or None


def _every(elem: Element | None, *names: str) -> list[Element]:
    """Every element down a path of child names (each step may repeat)."""
    level = [] if elem is None else [elem]
    for name in names:
        level = [child for parent in level for child in parent.findall(name)]
    return level


# --- parsing ------------------------------------------------------------------------------


class _Statement:
    def __init__(self) -> None:
        self.account: str | None = None
        self.currency: str | None = None
        self.balances: list[tuple[str, str, str, str | None]] = []  # code, amt, ccy, cdi


def parse(raw: RawFile, options: ImportOptions) -> Parsed:
    import polars as pl

    path = raw.path
    entries, charges, statements = _read(raw)
    ntry_lines = line_starts_bytes(raw.data, _NTRY)
    if len(ntry_lines) != len(entries["amt"]):
        raise DataError("cannot locate every <Ntry> element in the file", path=path,
                        hint="the XML may hide entries in comments or CDATA; export it again")
    if not entries["amt"]:
        raise DataError("the statements in this file hold no entries (<Ntry>), balances only",
                        path=path, hint="download the statement with its transactions (a date "
                        "range) instead of the balance")
    df = pl.DataFrame(entries, schema=dict.fromkeys(entries, pl.String)).with_columns(
        pl.Series(LINE, ntry_lines, dtype=pl.Int64),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_entry"),
    )
    df = df.with_columns(pl.col("_stmt").cast(pl.Int64))
    rows_read = df.height
    _check(df, path)

    status = pl.col("sts").str.to_uppercase()
    skipped = counts(df.filter(status != "BOOK")["sts"].str.to_uppercase(),
                     "status {} (not booked)")
    df = df.filter(status == "BOOK")
    booked = parse_money(df, pl.col("amt"), path=path, what="Amt")
    df = df.with_columns(booked=pl.when(pl.col("cdi") == "DBIT").then(-booked).otherwise(booked))
    _check_balances(df, statements, raw)

    cdf, warnings = _charges(charges, df, path, skipped)
    included = cdf.filter(pl.col("incl")).group_by("_entry").agg(pl.col("fee").sum())
    df = df.join(included, on="_entry", how="left", maintain_order="left").with_columns(
        amount=pl.col("booked") - pl.col("fee").fill_null(0))

    bookg = pl.coalesce(pl.col("bookg_dt"), pl.col("bookg_dttm")).str.strip_chars()
    day = pl.when(bookg.str.contains(_ISO_DATE)).then(bookg.str.slice(0, 10))
    df = df.with_columns(date=day.str.strptime(pl.Date, "%Y-%m-%d", strict=False))
    bad = first_bad(df, pl.col("date").is_null(), pl.coalesce(bookg, pl.lit("")))
    if bad:
        what = f"booking date {bad[1]!r} is not a date" if bad[1] else \
            "booked entry has no booking date (BookgDt) or value date (ValDt)"
        raise DataError(what, path=path, line=bad[0],
                        hint="booked entries need BookgDt/Dt as YYYY-MM-DD (a UTC offset may "
                        "follow)")
    reversal = pl.col("rvsl").str.to_lowercase().is_in(["true", "1"])
    credit = pl.col("cdi") == "CRDT"
    payer_side = credit ^ reversal  # the original payment came in: the payer is the Dbtr
    counterparty = pl.when(payer_side).then(pl.coalesce("dbtr", "cdtr")).otherwise(
        pl.coalesce("cdtr", "dbtr"))
    code = pl.coalesce(
        pl.concat_str([pl.col("domn"), pl.col("fmly"), pl.col("sfmly")], separator="/"),
        pl.col("prtry")).str.to_lowercase()
    description = pl.coalesce("ustrd", "strd", "addtl_tx", "addtl_ntry", counterparty, code,
                              pl.lit("(no details)"))
    df = df.with_columns(counterparty=counterparty, description=description, category=code,
                         currency=pl.col("ccy").str.to_uppercase(), ref=pl.col("acct_ref"))
    kind, category = bank_kind(pl.col("amount"),
                               pl.concat_str(["counterparty", "description"], separator=" ",
                                             ignore_nulls=True),
                               fee=pl.col("sfmly").is_in(sorted(FEE_CODES)))
    df = df.with_columns(
        kind=pl.when(reversal & credit).then(pl.lit("adjustment"))
        .when(reversal).then(pl.lit("refund")).otherwise(kind),
        category=pl.when(reversal).then(pl.lit("reversal"))
        .otherwise(pl.coalesce(category, pl.col("category"))),
        related_ref=pl.lit(None, dtype=pl.String),
        _leg=pl.lit("entry"),
    )
    fee_rows = cdf.filter(pl.col("incl")).join(
        df.select("_entry", "date", "ref", "currency", "_stmt", "description"),
        on="_entry", how="inner", maintain_order="left",
    ).with_columns(
        amount=pl.col("fee"),
        kind=pl.lit("bank_fee"),
        category=pl.coalesce(pl.col("tp").str.to_lowercase(), pl.lit("charges")),
        description=pl.lit("Bank charges - ") + pl.col("description"),
        counterparty=pl.lit(None, dtype=pl.String),
        related_ref=pl.col("ref"),
        ref=pl.lit(None, dtype=pl.String),
        _leg=pl.lit("charge:") + pl.col("_n").cast(pl.String),
    )
    cols = ["_entry", "_stmt", LINE, "date", "amount", "currency", "kind", "category",
            "counterparty", "description", "ref", "related_ref", "_leg"]
    rows = pl.concat([df.select(cols), fee_rows.select(cols)], how="vertical_relaxed").sort(
        ["_entry", "_leg"], descending=[False, True])
    rows = rows.with_columns(_key_ref=pl.when(pl.col("_leg") == "entry").then(pl.col("ref"))
                             .otherwise(pl.col("related_ref")))
    key = ref_key("_key_ref", ["date", "amount", "currency", "description"], "_leg")
    accounts = pl.DataFrame({"_stmt": list(range(len(statements))),
                             "_account": [s.account or "" for s in statements]},
                            schema={"_stmt": pl.Int64, "_account": pl.String})
    rows = rows.join(accounts, on="_stmt", how="left", maintain_order="left")
    frames = []
    for (account,), part in rows.group_by("_account", maintain_order=True):
        name = options.account or account_name(SOURCE, account)
        frames.append(finalize(part, raw, source=SOURCE, account=name, key=key))
    if not frames:
        first = statements[0].account if statements else None
        name = options.account or account_name(SOURCE, first)
        frames.append(finalize(rows, raw, source=SOURCE, account=name, key=key))
    return Parsed(rows=pl.concat(frames), format=SOURCE, rows_read=rows_read,
                  skipped=skipped, warnings=warnings)


def line_starts_bytes(data: bytes, pattern: re.Pattern[bytes]) -> list[int]:
    """1-based line numbers of every match of `pattern` in `data`, in order."""
    return line_starts(data, [m.start() for m in pattern.finditer(data)])


ENTRY_FIELDS = ("_stmt", "amt", "ccy", "cdi", "rvsl", "sts", "bookg_dt", "bookg_dttm",
                "acct_ref", "addtl_ntry", "domn", "fmly", "sfmly", "prtry", "ustrd", "strd",
                "addtl_tx", "dbtr", "cdtr")


def _read(raw: RawFile) -> tuple[dict[str, list], dict[str, list], list[_Statement]]:
    """Stream the XML: entries and charges as strings, statement accounts and balances."""
    from xml.etree.ElementTree import ParseError, iterparse

    entries: dict[str, list] = {f: [] for f in ENTRY_FIELDS}
    charges: dict[str, list] = {f: [] for f in ("_entry", "_n", "amt", "ccy", "cdi", "incl",
                                                "tp")}
    statements: list[_Statement] = []
    path = raw.path
    try:
        _refuse_dtd(raw)
        for _event, elem in iterparse(io.BytesIO(raw.data), events=("end",)):
            tag = elem.tag
            if tag[0] == "{":
                elem.tag = tag = tag[tag.index("}") + 1:]
            if tag == "Ntry":
                _entry(elem, len(statements), entries, charges)
                elem.clear()
            elif tag in ("Stmt", "Rpt", "Ntfctn"):
                statements.append(_statement(elem))
                elem.clear()
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise DataError(f"not well-formed XML: {exc}", path=path, line=line,
                        hint="the file is truncated or damaged; download it again") from None
    if not statements and not entries["amt"]:
        raise DataError("no camt.053 statement (Stmt), camt.052 report (Rpt) or camt.054 "
                        "notification (Ntfctn) found", path=path,
                        hint="this XML is not a bank-to-customer statement")
    return entries, charges, statements


class _RootSeen:
    """A parser target that only notes that the root element has started."""

    started = False

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.started = True

    def end(self, tag: str) -> None:
        pass

    def data(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def _refuse_dtd(raw: RawFile) -> None:
    """defusedxml reads the prolog up to the root element and refuses any DOCTYPE.

    Entities can only be declared in a DTD, so a document without one can hold no billion
    laughs and no external entity; the body is then streamed by ElementTree's C parser
    (defusedxml's parser is pure Python: ~10x slower on a 100,000-entry statement).
    """
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    target = _RootSeen()
    parser = DefusedXMLParser(target=target, forbid_dtd=True, forbid_entities=True,
                              forbid_external=True)
    try:
        for start in range(0, len(raw.data), 4096):
            parser.feed(raw.data[start:start + 4096])
            if target.started:
                return
    except DefusedXmlException as exc:
        raise DataError(
            f"refused: the XML declares a DTD or entities ({type(exc).__name__})",
            path=raw.path, hint="bank statements never need these; it may be an XML bomb or an "
            "attempt to read local files. Export the statement again from the bank") from None


def _statement(stmt: Element) -> _Statement:
    found = _Statement()
    found.account = _text(stmt, "Acct", "Id", "IBAN") or _text(stmt, "Acct", "Id", "Othr", "Id")
    found.currency = _text(stmt, "Acct", "Ccy")
    for bal in stmt.findall("Bal"):
        amt = bal.find("Amt")
        found.balances.append((
            _text(bal, "Tp", "CdOrPrtry", "Cd") or _text(bal, "Tp", "CdOrPrtry", "Prtry") or "",
            _text(bal, "Amt") or "", amt.get("Ccy", "") if amt is not None else "",
            _text(bal, "CdtDbtInd")))
    return found


def _entry(ntry: Element, stmt: int, entries: dict[str, list], charges: dict[str, list]) -> None:
    """Collect one entry's fields (as text) and its charge records: one pass over its
    children, since this runs once per entry of statements 100,000 entries long."""
    found: dict[str, str | None] = dict.fromkeys(ENTRY_FIELDS)
    found["_stmt"] = str(stmt)
    txs: list[Element] = []
    chrgs: list[Element] = []
    for child in ntry:
        tag = child.tag
        if tag == "Amt":
            found["amt"], found["ccy"] = _clean(child.text), child.get("Ccy")
        elif tag == "CdtDbtInd":
            found["cdi"] = _clean(child.text)
        elif tag == "RvslInd":
            found["rvsl"] = _clean(child.text)
        elif tag == "Sts":
            found["sts"] = (_clean(child.findtext("Cd")) or _clean(child.findtext("Prtry"))
                            or _clean(child.text))
        elif tag == "BookgDt":
            found["bookg_dt"] = _clean(child.findtext("Dt"))
            found["bookg_dttm"] = _clean(child.findtext("DtTm"))
        elif tag == "ValDt" and not (found.get("bookg_dt") or found.get("bookg_dttm")):
            # camt.054 notifications often give only the value date
            found["bookg_dt"] = _clean(child.findtext("Dt")) or _clean(child.findtext("DtTm"))
        elif tag == "AcctSvcrRef":
            found["acct_ref"] = _clean(child.text)
        elif tag == "AddtlNtryInf":
            found["addtl_ntry"] = _clean(child.text)
        elif tag == "BkTxCd":
            found["domn"] = _text(child, "Domn", "Cd")
            found["fmly"] = _text(child, "Domn", "Fmly", "Cd")
            found["sfmly"] = _text(child, "Domn", "Fmly", "SubFmlyCd")
            found["prtry"] = _text(child, "Prtry", "Cd")
        elif tag == "Chrgs":
            chrgs.append(child)
        elif tag == "NtryDtls":
            txs.extend(child.findall("TxDtls"))
    if txs:
        _details(txs, found)
    for key, value in found.items():
        entries[key].append(value)
    if chrgs:
        _charge_records(chrgs, len(entries["amt"]) - 1, charges)


def _clean(text: str | None) -> str | None:
    text = text.strip() if text else ""
    return text or None


def _details(txs: list[Element], found: dict[str, str | None]) -> None:
    """References, remittance text and parties of an entry's transactions."""
    ustrd: list[str] = []
    strd: list[str] = []
    parties: list[Element] = []
    for tx in txs:
        if found["acct_ref"] is None:
            found["acct_ref"] = _text(tx, "Refs", "AcctSvcrRef")
        if found["addtl_tx"] is None:
            found["addtl_tx"] = _clean(tx.findtext("AddtlTxInf"))
        for rmt in tx.findall("RmtInf"):
            ustrd.extend(t for u in rmt.findall("Ustrd") if (t := _clean(u.text)))
            strd.extend(t for r in _every(rmt, "Strd", "CdtrRefInf", "Ref")
                        if (t := _clean(r.text)))
        parties.extend(tx.findall("RltdPties"))
    found["ustrd"] = " ".join(ustrd) or None
    found["strd"] = " ".join(strd) or None
    found["dbtr"] = _names(parties, "Dbtr") or _names(parties, "UltmtDbtr")
    found["cdtr"] = _names(parties, "Cdtr") or _names(parties, "UltmtCdtr")


def _charge_records(chrgs: list[Element], index: int, charges: dict[str, list]) -> None:
    """Charge records: `Chrgs/Rcrd` (.04 on), or each `Chrgs` holding an `Amt` (.02)."""
    number = 0
    for chrg in chrgs:
        records = chrg.findall("Rcrd") or ([chrg] if chrg.find("Amt") is not None else [])
        for record in records:
            ramt = record.find("Amt")
            number += 1
            charges["_entry"].append(index)
            charges["_n"].append(number)
            charges["amt"].append(_text(record, "Amt"))
            charges["ccy"].append(ramt.get("Ccy") if ramt is not None else None)
            charges["cdi"].append(_text(record, "CdtDbtInd"))
            charges["incl"].append(_text(record, "ChrgInclInd"))
            charges["tp"].append(_text(record, "Tp", "Cd") or _text(record, "Tp", "Prtry", "Id"))


def _names(parties: list[Element], role: str) -> str | None:
    """The distinct names of one role across an entry's transactions (.02 `Nm`, .08 `Pty/Nm`)."""
    names = []
    for party in parties:
        who = party.find(role)
        if who is not None and (name := _text(who, "Nm") or _text(who, "Pty", "Nm")):
            names.append(name)
    return "; ".join(dict.fromkeys(names)) or None


def _check(df: pl.DataFrame, path) -> None:
    import polars as pl

    checks = [
        (pl.col("amt").is_null(), pl.lit("(none)"), "entry has no Amt"),
        (pl.col("ccy").is_null(), pl.lit("(none)"), "entry Amt has no Ccy currency"),
        (pl.col("sts").is_null(), pl.lit("(none)"), "entry has no status (Sts)"),
        (~pl.col("cdi").fill_null("").is_in(["CRDT", "DBIT"]),
         pl.coalesce("cdi", pl.lit("(none)")), "CdtDbtInd {!r} is not CRDT or DBIT"),
    ]
    for bad_when, value, message in checks:
        bad = first_bad(df, bad_when, value)
        if bad:
            raise DataError(message.format(bad[1]), path=path, line=bad[0],
                            hint="the statement is damaged or not ISO 20022; export it again")


def _charges(charges: dict[str, list], entries: pl.DataFrame, path,
             skipped: dict[str, int]) -> tuple[pl.DataFrame, list[str]]:
    """Charge records of booked entries as signed fees, `incl` True where inside `Amt`."""
    import polars as pl

    schema = {"_entry": pl.Int64, "_n": pl.Int64, "amt": pl.String, "ccy": pl.String,
              "cdi": pl.String, "incl": pl.String, "tp": pl.String}
    cdf = pl.DataFrame(charges, schema=schema).join(
        entries.select("_entry", LINE, pl.col("ccy").alias("_entry_ccy")), on="_entry",
        how="inner", maintain_order="left")
    amount = parse_money(cdf, pl.col("amt"), path=path, what="charge Amt")
    cdf = cdf.with_columns(
        fee=pl.when(pl.col("cdi") == "CRDT").then(amount).otherwise(-amount),
        incl=pl.col("incl").fill_null("true").str.to_lowercase().is_in(["true", "1"]),
    )
    bad = first_bad(cdf, pl.col("ccy").is_not_null() & (pl.col("ccy") != pl.col("_entry_ccy")),
                    pl.col("ccy"))
    if bad:
        raise DataError(f"charge in {bad[1]} on an entry in another currency", path=path,
                        line=bad[0], hint="charges in a foreign currency cannot be split "
                        "out of the entry; please report this file")
    warnings = []
    excluded = cdf.filter(~pl.col("incl")).height
    if excluded:
        skipped["charges not included in the entry amount"] = excluded
        warnings.append(f"{excluded} charge record(s) are not included in their entry's "
                        "amount (ChrgInclInd false): not booked here; they appear as their "
                        "own entry or were paid by the other party")
    return cdf, warnings


def _check_balances(df: pl.DataFrame, statements: list[_Statement], raw: RawFile) -> None:
    """Opening booked balance + booked entries = closing booked balance, per statement."""
    import polars as pl

    bal_lines = iter(line_starts_bytes(raw.data, _BAL))
    sums = dict(df.group_by("_stmt").agg(pl.col("booked").sum()).iter_rows())
    for index, stmt in enumerate(statements):
        found: dict[str, tuple[Decimal, int | None]] = {}
        for code, amt, _ccy, cdi in stmt.balances:
            line = next(bal_lines, None)
            try:
                value = Decimal(amt) if _AMOUNT.match(amt) else None
            except InvalidOperation:
                value = None
            if value is None:
                raise DataError(f"balance amount {amt!r} is not a number", path=raw.path,
                                line=line, hint="the statement is damaged; export it again")
            found.setdefault(code.upper(), (-value if cdi == "DBIT" else value, line))
        opening = found.get("OPBD") or found.get("PRCD")
        closing = found.get("CLBD")
        if opening is None or closing is None:
            continue
        total = Decimal(sums.get(index, 0) or 0).quantize(closing[0])
        if opening[0] + total != closing[0]:
            raise DataError(
                f"closing balance {closing[0]} is not the opening balance {opening[0]} plus "
                f"the booked entries ({total:+})", path=raw.path, line=closing[1],
                hint="the statement is truncated, edited or misread; export it again")


FORMATS = [
    Format(
        name="camt053",
        title="ISO 20022 camt.053 bank statement (XML, any version; also camt.052 reports and "
        "camt.054 notifications)",
        fingerprint="XML root Document with a BkToCstmrStmt (or BkToCstmrAcctRpt, "
        "BkToCstmrDbtCdtNtfctn) element",
        detect=detect,
        parse=parse,
    ),
]
