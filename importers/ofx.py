"""OFX / QFX / QBO bank, credit-card and investment statements (OFX 1.x SGML and 2.x XML).

The envelope (statements, accounts, currencies) is read leniently by `ofx_envelope`; the
transactions are read from the text with vectorised polars regexes (a validating parser
needed ~20 s per 100,000 transactions and refused files that lose no money). The line of
every `STMTTRN` is kept for messages.

- `TRNAMT`'s sign is the truth (credits +, debits -); `TRNTYPE` is only used to spot fees.
- The date is the first 8 digits of `DTPOSTED`: the bank's own day (converting to UTC
  would move a late-evening posting to the next day).
- Kinds (`statements.bank_kind`, shared with camt.053 and MT940): `SRVCHG`/`FEE` ->
  bank_fee; `XFER` -> transfer; credits whose NAME/MEMO names Upwork, Payoneer, PayPal,
  Wise or Fiverr -> transfer (money arriving from the user's own platform or wallet
  account, counted as earning where it was earned); `INT`/`DIV` -> other; the rest earning
  (credit) or expense (debit). On a credit-card statement a credit is the card bill being
  paid (PAYMENT/XFER or NAME with "payment": transfer, `card_payment`) or a merchant refund
  (expense, positive).
- Row ids: `FITID`; without one, or where a bank repeats one within the file, (date,
  amount, NAME) and the occurrence.
- Some banks write a bare `&` in NAME/MEMO: it is escaped before parsing, and entities are
  decoded in the text kept.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from importers.base import (
    Format,
    ImportOptions,
    Parsed,
    account_name,
    finalize,
    first_bad,
    parse_money,
)
from importers.raw_files import RawFile
from importers.readers import LINE
from importers.statements import bank_kind, line_starts, ref_key
from ledger.core.errors import DataError

if TYPE_CHECKING:
    import polars as pl

SOURCE = "ofx"

TRNTYPES = ("CREDIT", "DEBIT", "INT", "DIV", "FEE", "SRVCHG", "DEP", "ATM", "POS", "XFER",
            "CHECK", "PAYMENT", "CASH", "DIRECTDEP", "DIRECTDEBIT", "REPEATPMT", "HOLD", "OTHER")
"""OFX 2.x TRNTYPE values; anything else is not an OFX statement transaction."""

_BARE_AMP = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|nbsp|#\d+|#x[0-9A-Fa-f]+);)")
_DTPOSTED = r"^\d{8}(\d{4}(\d{2}(\.\d{1,6})?)?)?\s*(\[[+-]?\d{1,2}(\.\d{1,2})?(:[A-Za-z]+)?\])?$"
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'",
             "&nbsp;": " "}


def detect(raw: RawFile) -> bool:
    head = raw.head_text.lstrip()
    return head.startswith("OFXHEADER:") or "<OFX>" in head or "<?OFX" in head


def unescape(expr: pl.Expr) -> pl.Expr:
    """Decode the XML/HTML entities statements carry (`&amp;`, `&#39;`...), vectorised."""
    for entity, char in _ENTITIES.items():
        expr = expr.str.replace_all(entity, char, literal=True)
    expr = expr.str.replace_all("&#39;", "'", literal=True).str.replace_all("&#x27;", "'",
                                                                         literal=True)
    return expr


# --- parsing ------------------------------------------------------------------------------


def parse(raw: RawFile, options: ImportOptions) -> Parsed:
    import polars as pl

    from importers import ofx_envelope

    path = raw.path
    text = _BARE_AMP.sub("&amp;", ofx_envelope.prepare(raw.text))
    if "</OFX>" not in text:
        raise DataError("the file ends before </OFX>: it is truncated", path=path,
                        line=text.rstrip().count("\n") + 1,
                        hint="download the statement again")
    found, skipped = ofx_envelope.statements(text, path)
    bodies, offsets, blocks, categories = [], [], [], []
    for block_no, statement in enumerate(found):
        bodies.extend(statement.bodies)
        offsets.extend(statement.offsets)
        categories.extend(statement.categories)
        blocks.extend([block_no] * len(statement.bodies))
    accounts = [(s.acctid or "", s.curdef, s.kind == "CCSTMTRS") for s in found]
    if any(s.kind == "INVSTMTRS" for s in found):  # income and trades were gathered after
        order = sorted(range(len(offsets)), key=offsets.__getitem__)  # the cash movements
        bodies, blocks, categories = ([v[i] for i in order] for v in (bodies, blocks,
                                                                     categories))
        offsets = sorted(offsets)

    df = pl.DataFrame({"_body": bodies, "_block": blocks, "_category": categories,
                       LINE: line_starts(text, offsets)},
                      schema={"_body": pl.String, "_block": pl.Int64, "_category": pl.String,
                              LINE: pl.Int64})
    rows_read = df.height
    field = {name: _tag(name) for name in ("TRNTYPE", "DTPOSTED", "TRNAMT", "FITID", "NAME",
                                           "MEMO", "CHECKNUM")}
    field["TRNTYPE"] = field["TRNTYPE"].str.to_uppercase()  # some tools write 'Credit'
    df = df.with_columns(
        **field,
        _cursym=pl.col("_body").str.extract(r"(?s)<CURRENCY>.*?<CURSYM>\s*([A-Za-z]{3})", 1),
    ).drop("_body")
    _check(df, path)
    mark = options.decimal_mark or _decimal_mark(df, path)
    blocks_df = pl.DataFrame({"_block": list(range(len(accounts))),
                              "_acctid": [a for a, _, _ in accounts],
                              "_curdef": [c for _, c, _ in accounts],
                              "_card": [card for _, _, card in accounts]},
                             schema={"_block": pl.Int64, "_acctid": pl.String,
                                     "_curdef": pl.String, "_card": pl.Boolean})
    df = df.join(blocks_df, on="_block", how="left", maintain_order="left")
    df = df.with_columns(_name=unescape(pl.col("NAME")), _memo=unescape(pl.col("MEMO")))
    df = df.with_columns(
        date=pl.col("DTPOSTED").str.slice(0, 8).str.strptime(pl.Date, "%Y%m%d", strict=False),
        amount=parse_money(df, pl.col("TRNAMT"), path=path, what="TRNAMT", decimal_mark=mark,
                           mark_flag=True),
        currency=pl.coalesce(pl.col("_cursym"), pl.col("_curdef")).str.to_uppercase(),
        counterparty=pl.col("_name"),
        description=pl.concat_str(["_name", "_memo"], separator=" - ", ignore_nulls=True)
        .fill_null(pl.col("TRNTYPE")),
        ref=pl.col("FITID"),
        contract=pl.lit(None, dtype=pl.String),
        hours=pl.lit(None, dtype=pl.Float64),
        related_ref=pl.lit(None, dtype=pl.String),
    )
    no_currency = first_bad(df, pl.col("currency").is_null(), pl.lit(""))
    if no_currency:
        raise DataError("the transaction's currency is not given: its statement has no "
                        "<CURDEF> and the transaction no <CURRENCY>", path=path,
                        line=no_currency[0],
                        hint="the exporting program left the currency out; add "
                        "<CURDEF>USD</CURDEF> (your account's currency) after <STMTRS>")
    bad_date = first_bad(df, pl.col("date").is_null(), pl.col("DTPOSTED"))
    if bad_date:
        raise DataError(f"DTPOSTED {bad_date[1]!r} is not a date", path=path, line=bad_date[0],
                        hint="OFX dates are YYYYMMDD[HHMMSS]; if the bank or program that "
                        "wrote the file always writes it so, please report it")
    trntype = pl.col("TRNTYPE")
    card_credit = pl.col("_card") & (pl.col("amount") > 0)
    paid = pl.col("_name").fill_null("").str.contains("(?i)payment")
    card_payment = card_credit & (trntype.is_in(["PAYMENT", "XFER"]) | paid)
    kind, category = bank_kind(
        pl.col("amount"), pl.concat_str(["_name", "_memo"], separator=" ", ignore_nulls=True),
        fee=trntype.is_in(["SRVCHG", "FEE"]), transfer=(trntype == "XFER") | card_payment,
        other=trntype.is_in(["INT", "DIV"]))
    df = df.with_columns(
        kind=pl.when(card_credit & ~card_payment & (kind == "earning")).then(pl.lit("expense"))
        .otherwise(kind),
        category=pl.when(card_payment).then(pl.lit("card_payment"))
        .when(card_credit & (kind == "earning")).then(pl.lit("merchant_refund"))
        .otherwise(pl.coalesce("_category", category, trntype.str.to_lowercase())))

    key = ref_key("ref", ["date", "amount", "counterparty"])
    frames = []
    for (acctid,), part in df.group_by("_acctid", maintain_order=True):
        account = options.account or account_name(SOURCE, acctid)
        frames.append(finalize(part, raw, source=SOURCE, account=account, key=key))
    if not frames:
        first = account_name(SOURCE, accounts[0][0]) if accounts else SOURCE
        frames.append(finalize(df, raw, source=SOURCE, account=options.account or first))
    rows = pl.concat(frames)
    return Parsed(rows=rows.sort("line", maintain_order=True), format=SOURCE,
                  rows_read=rows_read + sum(skipped.values()), skipped=skipped)


def _tag(name: str) -> pl.Expr:
    """The value of an OFX element in a STMTTRN body (SGML: up to the line end or next tag)."""
    import polars as pl

    value = pl.col("_body").str.extract(rf"<{name}>([^<\r\n]*)", 1).str.strip_chars()
    return pl.when(value.str.len_chars() > 0).then(value).otherwise(None)


def _check(df: pl.DataFrame, path) -> None:
    """Every transaction has the required elements in OFX form, else an error at its line."""
    import polars as pl

    for name in ("TRNTYPE", "DTPOSTED", "TRNAMT"):
        missing = first_bad(df, pl.col(name).is_null(), pl.lit(name))
        if missing:
            raise DataError(f"transaction has no {name}", path=path, line=missing[0],
                            hint="every transaction needs TRNTYPE, DTPOSTED and TRNAMT: the "
                            "file is truncated, or the program that wrote it left this out")
    bad = first_bad(df, ~pl.col("TRNTYPE").is_in(TRNTYPES), pl.col("TRNTYPE"))
    if bad:
        raise DataError(f"TRNTYPE {bad[1]!r} is not an OFX transaction type", path=path,
                        line=bad[0], hint="known types: " + ", ".join(TRNTYPES))
    bad = first_bad(df, ~pl.col("DTPOSTED").str.contains(_DTPOSTED), pl.col("DTPOSTED"))
    if bad:
        raise DataError(f"DTPOSTED {bad[1]!r} is not an OFX date", path=path, line=bad[0],
                        hint="OFX dates are YYYYMMDD[HHMMSS]; if the bank or program that "
                        "wrote the file always writes it so, please report it")


def _decimal_mark(df: pl.DataFrame, path) -> str:
    """OFX amounts use '.', but some European banks write a decimal comma; never both."""
    import polars as pl

    comma = first_bad(df, pl.col("TRNAMT").str.contains(",", literal=True), pl.col("TRNAMT"))
    if comma is None:
        return "."
    if df.filter(pl.col("TRNAMT").str.contains(".", literal=True)).height:
        raise DataError(f"TRNAMT {comma[1]!r} uses a decimal comma where others use a point",
                        path=path, line=comma[0],
                        hint="say which with --decimal-mark . or --decimal-mark ,")
    return ","


FORMATS = [
    Format(
        name="ofx",
        title="OFX / QFX / QBO bank, credit-card or investment statement",
        fingerprint="starts with OFXHEADER: or contains <OFX> / <?OFX",
        detect=detect,
        parse=parse,
    ),
]
