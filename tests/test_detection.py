"""Every export under tests/data/<format>/ (all formats, all helpers' files; not tests/data/broken
or tests/data/real, not the .json expectations and options beside them) is recognised by exactly
one format of the registry, and by the one it is: fingerprints must not overlap, none may miss its
own files, and every format the registry lists has at least one such export."""

from __future__ import annotations

import pytest

from importers import registry
from tests import golden

NOT_EXPORTS = ("batch", "broken", "hours", "ledger-v1", "real")
"""Folders of tests/data that hold no exports of ours: a batch panel (test_batch_chunk.py), broken
files (test_errors_catalogue.py), timesheets (ledger hours import, not the registry), a ledger
directory of an older version (test_schema_version.py) and other projects' public files
(test_real_corpus.py)."""
SETTINGS = ("ledger.toml", "rates.csv", "units.csv")
"""Files of a ledger directory that fixtures keep beside their exports (tests/data/payouts)."""

SOURCES = sorted(path for path in golden.DATA.rglob("*")
                 if path.is_file() and len(path.relative_to(golden.DATA).parts) > 1
                 and path.relative_to(golden.DATA).parts[0] not in NOT_EXPORTS
                 and not path.name.endswith(".json") and path.name not in SETTINGS)

EXPECTED: dict[str, str] = {
    "bank/AccountFullStatement.CSV": "bank:meezan",
    "bank/My_Transactions BDO Savings 1234 2024-05-31.csv": "bank:bdo",
    "bank/axis-drcr.csv": "bank:axis-drcr",
    "bank/axis.csv": "bank:axis",
    "bank/bdo-2025.csv": "bank:bdo-2025",
    "bank/hdfc-delimited.txt": "bank:hdfc-delimited",
    "bank/hdfc.csv": "bank:hdfc",
    "bank/icici.xlsx": "bank:icici",
    "bank/idfc.csv": "bank:idfc",
    "bank/kotak.csv": "bank:kotak",
    "bank/m-02-2025.csv": "bank:nayapay",
    "bank/sbi.csv": "bank:sbi",
    "camt053/statement-v02.xml": "camt053",
    "camt053/statement-v08.xml": "camt053",
    "camt053/two-statements-v04.xml": "camt053",
    "fiverr/earnings-unsigned.csv": "fiverr",
    "fiverr/earnings.csv": "fiverr",
    "freelancer/history-balance.csv": "freelancer",
    "freelancer/history-gst.csv": "freelancer",
    "freelancer/history-multi.csv": "freelancer",
    "mt940/two-statements.sta": "mt940",
    "mt940/wise-usd.mt940": "mt940",
    "ofx/checking-sgml.ofx": "ofx",
    "ofx/creditcard-v2.qfx": "ofx",
    "payoneer/transactions-12col.csv": "payoneer",
    "payoneer/transactions-17col.csv": "payoneer",
    "payouts/nayapay.csv": "bank:nayapay",
    "payouts/upwork.csv": "upwork",
    "paypal/activity-de.csv": "paypal",
    "paypal/activity-en.csv": "paypal",
    "paypal/statement-en.csv": "paypal-statement",
    "paypal/statement-es.csv": "paypal-statement",
    "upwork/classic.csv": "upwork",
    "upwork/report-2024.csv": "upwork-2024",
    "upwork/report-title.csv": "upwork-2024",
    "wise/statement_12345678_EUR_2023-02-01_2023-02-28.csv": "wise",
    "wise/statement_12345678_USD_2024-06-01_2024-06-30.csv": "wise",
    "wise/transaction-history.csv": "wise-history",
}
"""Each golden export (path under tests/data) -> the format that must recognise it."""


def rel(path) -> str:
    return path.relative_to(golden.DATA).as_posix()


def test_every_format_directory_has_goldens():
    assert SOURCES, "no golden exports found under tests/data"


def test_every_golden_states_its_format():
    assert sorted(rel(p) for p in SOURCES) == sorted(EXPECTED), \
        "add each new golden export to EXPECTED with the format it must be detected as"


def test_every_format_has_a_golden():
    assert set(EXPECTED.values()) == {fmt.name for fmt in registry.formats()}


@pytest.mark.parametrize("source", SOURCES, ids=rel)
def test_detected_by_exactly_one_format(source):
    raw = registry.read(source)
    matched = [fmt.name for fmt in registry.formats() if fmt.detect(raw)]
    assert len(matched) == 1, f"{rel(source)} matched {matched or 'nothing'}"
    assert registry.detect(raw).name == matched[0]
    assert matched[0] == EXPECTED.get(rel(source)), rel(source)


def _raw(text: str):
    from pathlib import Path

    from importers.raw_files import RawFile

    return RawFile(path=Path("x.csv"), data=text.encode("utf-8"), sha256="")


def test_header_index_skips_lines_lacking_a_needed_cell_without_changing_the_answer():
    # the header sits on line 3; its cells are quoted, spaced and cased unlike the names
    raw = _raw('Bank X\nDate only here,1\n"  DATE ",Narration,"Closing\tBalance"\n1,2,3\n')
    wanted = {"date", "narration", "closing balance"}
    fits = wanted.__le__
    assert raw.header_index(fits) == 2
    assert raw.header_index(fits, needs=sorted(wanted)) == 2
    assert raw.header_index(fits, needs=["date", "missing"]) is None  # a needed name absent
    # a name holding a quote is not used to skip (the line doubles it)
    quoted = _raw('a,"say ""hi""",b\n')
    assert quoted.header_index(lambda cells: 'say "hi"' in cells, needs=['say "hi"']) == 0


def test_header_is_first_is_header_index_zero():
    fits = {"date", "amount"}.__le__
    assert _raw("Date,Amount\n1,2\n").header_is_first(fits)
    assert not _raw("\nDate,Amount\n").header_is_first(fits)  # header on line 2
    assert not _raw("Other\nDate,Amount\n").header_is_first(fits)
    assert not _raw("").header_is_first(fits)
