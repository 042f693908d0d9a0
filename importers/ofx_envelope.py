"""The parts of an OFX file around its transactions, read as leniently as banks write them.

Real files break the spec in ways that lose no money: no `OFXHEADER` block (csv2ofx), a
bank id longer than 9 characters, no `LEDGERBAL`, elements out of order, account types
such as CHEQUING, `NAME`/`MEMO` inside CDATA. A validating parser refused all of those, so
the envelope is read with regexes: per statement its account, default currency and
transactions (a transaction list left unclosed ends with its statement). Only what cannot be
read is refused, at its line: an unclosed `<STMTTRN>`, a transaction outside any statement,
a server error instead of a statement.

Investment statements (`INVSTMTRS`) are money too: cash movements (`INVBANKTRAN`) are
read like bank transactions, income (`INCOME`: dividends, interest, capital gains) and
trades' cash (`BUY*`/`SELL*` TOTAL) are turned into the same fields; what moves no cash
(reinvestments, share transfers, splits) is counted as skipped, never silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ledger.core.errors import DataError

_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_STATEMENT = re.compile(r"<(STMTRS|CCSTMTRS|INVSTMTRS)>(.*?)</\1>", re.S)
_TRANLIST = re.compile(r"<(BANKTRANLIST|INVTRANLIST)>(.*?)(?:</\1>|$)", re.S)
"""Nubank (Brazil) never closes its BANKTRANLIST: the list then ends with its statement."""
_STMTTRN = re.compile(r"<STMTTRN>(.*?)</STMTTRN>", re.S)
_INVESTMENT = re.compile(
    r"<(INCOME|BUYSTOCK|BUYMF|BUYOPT|BUYDEBT|BUYOTHER|SELLSTOCK|SELLMF|SELLOPT|SELLDEBT"
    r"|SELLOTHER|REINVEST|TRANSFER|SPLIT|CLOSUREOPT|JRNLFUND|JRNLSEC|MARGININTEREST"
    r"|RETOFCAP|INVEXPENSE)>(.*?)</\1>", re.S)
_INCOME_TYPES = {"DIV": "DIV", "INTEREST": "INT", "CGLONG": "DIV", "CGSHORT": "DIV",
                 "MISC": "DIV"}
_NO_CASH = {"REINVEST": "reinvested income (no cash movement)",
            "TRANSFER": "securities transfer (no cash movement)",
            "SPLIT": "stock split (no cash movement)",
            "CLOSUREOPT": "option closure (no cash movement)",
            "JRNLFUND": "journal between sub-accounts (no cash movement)",
            "JRNLSEC": "journal between sub-accounts (no cash movement)"}


@dataclass
class Statement:
    """One statement: its kind, account, default currency and transactions (each an
    STMTTRN-like body, its offset in the text and, for investments, a category)."""

    kind: str
    acctid: str | None
    curdef: str | None
    bodies: list[str] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    categories: list[str | None] = field(default_factory=list)


def prepare(text: str) -> str:
    """CDATA sections as escaped text and `<!-- -->` comments blanked (elements commented out
    are not data), their newlines kept so lines still count."""
    if "<![CDATA[" in text:
        text = _CDATA.sub(lambda m: m.group(1).replace("&", "&amp;").replace("<", "&lt;")
                          .replace(">", "&gt;"), text)
    if "<!--" in text:
        text = _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    return text


def value(body: str, name: str) -> str | None:
    found = re.search(rf"<{name}>([^<\r\n]*)", body)
    text = found.group(1).strip() if found else ""
    return text or None


def statements(text: str, path) -> tuple[list[Statement], dict[str, int]]:
    """Every statement with transactions, in file order, and what was skipped and why."""
    _check_balanced(text, path)
    found: list[Statement] = []
    skipped: dict[str, int] = {}
    for match in _STATEMENT.finditer(text):
        kind, body = match.group(1), match.group(2)
        start = match.start(2)
        acct = re.search(r"<(?:BANK|CC|INV)ACCTFROM>(.*?)(?:</(?:BANK|CC|INV)ACCTFROM>|$)",
                         body, re.S)
        statement = Statement(kind, value(acct.group(1) if acct else body, "ACCTID"),
                              value(body, "CURDEF"))
        for tranlist in _TRANLIST.finditer(body):
            for trn in _STMTTRN.finditer(body, tranlist.start(2), tranlist.end(2)):
                statement.bodies.append(trn.group(1))
                statement.offsets.append(start + trn.start())
                statement.categories.append(None)
            if kind == "INVSTMTRS":
                _investments(body, tranlist, start, statement, skipped)
        if statement.bodies or _TRANLIST.search(body):
            found.append(statement)
    read = sum(1 for s in found for c in s.categories if c is None)
    if read != text.count("<STMTTRN>"):
        _outside(text, found, path)
    if not found:
        _no_statement(text, path, bool(_STATEMENT.search(text)))
    if not skipped and all(s.kind == "INVSTMTRS" and not s.bodies for s in found):
        raise DataError("the investment statements in this OFX file hold positions and "
                        "balances only, no transaction", path=path,
                        hint="download the statement with its transactions (a date range) "
                        "instead of the holdings")
    return found, skipped


def _investments(body: str, tranlist: re.Match, start: int, statement: Statement,
                 skipped: dict[str, int]) -> None:
    """Income and trades of an investment statement as STMTTRN-like bodies."""
    for trn in _INVESTMENT.finditer(body, tranlist.start(2), tranlist.end(2)):
        name, inner = trn.group(1), trn.group(2)
        if name in _NO_CASH:
            skipped[_NO_CASH[name]] = skipped.get(_NO_CASH[name], 0) + 1
            continue
        total = value(inner, "TOTAL")
        date = value(inner, "DTSETTLE") or value(inner, "DTTRADE")
        memo = value(inner, "MEMO")
        security = value(inner, "UNIQUEID")
        if name == "INCOME":
            trntype = _INCOME_TYPES.get(value(inner, "INCOMETYPE") or "MISC", "DIV")
            category = f"investment_{(value(inner, 'INCOMETYPE') or 'income').lower()}"
        elif name.startswith(("BUY", "SELL")):
            trntype = "XFER"
            category = "investment_buy" if name.startswith("BUY") else "investment_sell"
        else:  # margin interest, return of capital, expenses: cash that moved
            trntype, category = "OTHER", f"investment_{name.lower()}"
        parts = [f"<TRNTYPE>{trntype}", f"<DTPOSTED>{date or ''}", f"<TRNAMT>{total or ''}",
                 f"<FITID>{value(inner, 'FITID') or ''}",
                 f"<NAME>{name.title()}{' ' + security if security else ''}"]
        if memo:
            parts.append(f"<MEMO>{memo}")
        currency = value(inner, "CURSYM")
        if currency:
            parts.append(f"<CURRENCY><CURSYM>{currency}")
        statement.bodies.append("\n".join(parts))
        statement.offsets.append(start + trn.start())
        statement.categories.append(category)


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _check_balanced(text: str, path) -> None:
    """Every `<STMTTRN>` is closed before the next opens: counted first (linear), so a file of
    thousands of unclosed elements is refused at once instead of scanned for each."""
    for tag in ("STMTTRN", "STMTRS", "CCSTMTRS", "INVSTMTRS"):
        opened, closed = text.count(f"<{tag}>"), text.count(f"</{tag}>")
        if opened == closed:
            continue
        depth, at = 0, 0
        for token in re.finditer(rf"<(/?){tag}>", text):
            depth += -1 if token.group(1) else 1
            if depth > 1 or depth < 0:
                break
            at = token.start()
        line = _line(text, at)
        raise DataError(f"<{tag}> opened {opened} time(s) but closed {closed}: the element "
                        "begun here is not closed", path=path, line=line,
                        hint="the file is truncated or was edited; an OFX aggregate such as "
                        f"<{tag}> needs its </{tag}>")


def _outside(text: str, found: list[Statement], path) -> None:
    inside = {offset for s in found for offset in s.offsets}
    for trn in _STMTTRN.finditer(text):
        if trn.start() not in inside:
            raise DataError("transaction outside a statement's transaction list", path=path,
                            line=_line(text, trn.start()),
                            hint="each <STMTTRN> belongs in a <BANKTRANLIST> of a <STMTRS> or "
                            "<CCSTMTRS>; the file was edited or is damaged")


def _no_statement(text: str, path, balances_only: bool) -> None:
    """No statement at all: say what the server answered, else what is missing."""
    for status in re.finditer(r"<STATUS>(.*?)</STATUS>", text, re.S):
        severity = value(status.group(1), "SEVERITY")
        if severity and severity.upper() == "ERROR":
            message = value(status.group(1), "MESSAGE") or f"code {value(status.group(1), 'CODE')}"
            raise DataError(f"the bank's server answered with an error, not a statement: "
                            f"{message}", path=path, line=_line(text, status.start()),
                            hint="download the statement again from the bank's website")
    if balances_only:
        raise DataError("the statements in this OFX file hold balances only, no transaction "
                        "list", path=path, hint="download the statement with its transactions "
                        "(a date range) instead of the balance")
    raise DataError("no bank, card or investment statement (<STMTRS>, <CCSTMTRS>, "
                    "<INVSTMTRS>) in this OFX file", path=path,
                    hint="this OFX file holds no transactions (an account list or sign-on "
                    "only); download a statement instead")
