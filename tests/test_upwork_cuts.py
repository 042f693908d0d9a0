"""A large CSV read in parts cut without counting quotes (importers/csv_parts.py `line_cuts`)
is the table read at once: a cut inside a quoted cell is refused by polars (an unterminated
quote) and the parts are cut again where the quotes are even (`part_cuts`); a ragged row is
still refused at its line, with the same message."""

from __future__ import annotations

import polars as pl
import pytest

from importers import csv_parts, raw_files, readers, registry
from ledger.core.errors import DataError


@pytest.fixture(autouse=True)
def _large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "EXACT_SCAN_MAX_BYTES", 64)
    monkeypatch.setattr(raw_files, "EXACT_SCAN_MAX_BYTES", 64)


def _multiline_text(rows: int = 3000) -> str:
    """Every 7th description spans three lines (a quoted line break), some quote doubled."""
    out = []
    for n in range(2, rows):
        text = f'note {n}\nsecond ""line""\nthird' if n % 7 == 0 else f"desc {n}"
        out.append(f'{n},"{text}",{n}.50')
    return "Line,Description,Amount\n" + "\n".join(out) + "\n"


def _whole(path, monkeypatch: pytest.MonkeyPatch, columns=None) -> pl.DataFrame:
    """The table read at once (no parts), as `read_table` reads a body it does not cut."""
    with monkeypatch.context() as patch:
        patch.setattr(readers, "read_parts", lambda *args: None)
        df = readers.read_table(registry.read(path), columns=columns).df
    return df.select(c for c in df.columns if c in (columns or df.columns) or c == readers.LINE)


def test_cuts_inside_quoted_cells_are_cut_again_where_quotes_are_even(tmp_path, monkeypatch):
    path = tmp_path / "table.csv"
    path.write_text(_multiline_text())
    whole = _whole(path, monkeypatch, {"description", "amount"})
    monkeypatch.setattr(csv_parts, "PART_BYTES", 997)
    body = path.read_bytes()
    naive, counted = csv_parts.line_cuts(body, 0), csv_parts.part_cuts(body, 0)
    assert naive != counted  # some first line break after a part's length is inside quotes
    read: list[list[int]] = []
    cut = csv_parts._read_cut

    def recording(body, cuts, *args):
        read.append(cuts)
        return cut(body, cuts, *args)

    monkeypatch.setattr(csv_parts, "_read_cut", recording)
    table = readers.read_table(registry.read(path), columns={"description", "amount"})
    assert read == [naive, counted]  # refused, then read in the counted parts
    assert table.df.equals(whole)
    assert table.df.filter(pl.col("amount") == "14.50")["description"].item() == \
        'note 14\nsecond "line"\nthird'


def test_cuts_between_records_are_read_as_they_are(tmp_path, monkeypatch):
    """Without quoted line breaks, the cuts are the counted ones' and read once."""
    path = tmp_path / "table.csv"
    path.write_text("Line,Description,Amount\n"
                    + "".join(f'{n},"desc, {n}",{n}.50\n' for n in range(2, 3000)))
    whole = _whole(path, monkeypatch, {"line", "amount"})
    monkeypatch.setattr(csv_parts, "PART_BYTES", 1000)
    body = path.read_bytes()
    assert csv_parts.line_cuts(body, 0) == csv_parts.part_cuts(body, 0)
    monkeypatch.setattr(csv_parts, "part_cuts", lambda *args: pytest.fail("counted"))
    table = readers.read_table(registry.read(path), columns={"line", "amount"})
    assert table.df.equals(whole)


@pytest.mark.parametrize("extra", [",extra", ",", ",,", ',""', ",,x"])
def test_a_row_with_too_many_cells_is_refused_with_its_line(tmp_path, monkeypatch, extra):
    path = tmp_path / "table.csv"
    text = _multiline_text().replace('\n2500,"desc 2500",2500.50\n',
                                     f'\n2500,"desc 2500",2500.50{extra}\n')
    path.write_text(text)
    monkeypatch.setattr(csv_parts, "PART_BYTES", 997)
    with pytest.raises(DataError) as caught:
        readers.read_table(registry.read(path), columns={"amount"})
    found = text.split("\n2500,", 1)[0].count("\n") + 2  # the physical line of the row
    cells = 3 + extra.count(",")
    assert caught.value.line == found
    assert caught.value.message == f"row has {cells} cells, more than the header's 3"


def test_an_unterminated_quote_is_refused_as_when_read_at_once(tmp_path, monkeypatch):
    path = tmp_path / "table.csv"
    path.write_text(_multiline_text().replace('\n2500,"desc 2500",', '\n2500,"desc 2500,'))
    monkeypatch.setattr(csv_parts, "PART_BYTES", 997)
    with pytest.raises(DataError) as parts:
        readers.read_table(registry.read(path), columns={"amount"})
    with pytest.raises(DataError) as whole:
        _whole(path, monkeypatch, {"amount"})
    assert (parts.value.line, parts.value.message, parts.value.hint) == \
        (whole.value.line, whole.value.message, whole.value.hint)
    # the row whose quote is not closed, named by its line, the same message every run (polars'
    # own message named no line and changed with which of its threads reported first)
    lines = path.read_text().split("\n")
    assert whole.value.line == lines.index('2500,"desc 2500,2500.50') + 1
    assert whole.value.message.startswith("a quoted cell in the row that starts on this line "
                                          "is not closed")
