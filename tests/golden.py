"""Golden files: an export in tests/data/<format>/NAME.<ext> beside NAME.expected.json, the exact
canonical rows it must give. `UPDATE_GOLDEN=1 make test` rewrites the JSON after a deliberate
change: read the diff before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from importers import registry
from importers.base import ImportOptions
from ledger.core.errors import DataError

DATA = Path(__file__).parent / "data"
BROKEN = DATA / "broken"
TODAY = "2026-11-23"
"""Fixed 'today' so pending/future rules do not move with the calendar."""


TEXT_VALUES = ("amount", "date", "counter_amount", "fee_included")
"""Columns written as text in the JSON: Decimals exactly, dates ISO."""


def rows_as_json(df) -> list[dict]:
    """Rows as JSON-ready dicts: money as decimal strings, dates ISO, no import_id (a file hash)."""
    out = []
    for row in df.drop("import_id").iter_rows(named=True):
        out.append({k: (str(v) if v is not None and k in TEXT_VALUES else v)
                    for k, v in row.items()})
    return out


def goldens() -> list[Path]:
    return sorted(DATA.rglob("*.expected.json"))


def source_of(expected: Path) -> Path:
    stem = expected.name[: -len(".expected.json")]
    candidates = [p for p in expected.parent.iterdir()
                  if p.name.startswith(stem + ".") and not p.name.endswith(".json")
                  and not p.name.endswith(".options.json")]
    assert len(candidates) == 1, f"{expected}: expected one source file, found {candidates}"
    return candidates[0]


def options_for(source: Path) -> ImportOptions:
    """Per-file import options from NAME.options.json (e.g. {"date_order": "dmy"})."""
    import datetime as dt

    opts = source.with_name(source.name.rsplit(".", 1)[0] + ".options.json")
    values = json.loads(opts.read_text()) if opts.exists() else {}
    return ImportOptions(account=values.get("account"), date_order=values.get("date_order"),
                         decimal_mark=values.get("decimal_mark"),
                         today=dt.date.fromisoformat(TODAY))


def parse_file(source: Path):
    return registry.parse(registry.read(source), options_for(source))


def check(expected: Path) -> None:
    source = source_of(expected)
    actual = rows_as_json(parse_file(source).rows)
    if os.environ.get("UPDATE_GOLDEN"):
        expected.write_text(json.dumps(actual, indent=1, ensure_ascii=False) + "\n")
    assert actual == json.loads(expected.read_text())


def parse(path: Path, source: str | None = None, profile_dirs=(), **options):
    """Detect (or take `source`) and parse one file as `ledger import` would, on a fixed day."""
    import datetime as dt

    return registry.parse(registry.read(path),
                          ImportOptions(today=dt.date.fromisoformat(TODAY), **options),
                          source=source, profile_dirs=profile_dirs)


def assert_refused(name: str, message: str, source: str | None = None, **options) -> None:
    """tests/data/broken/NAME is refused with exactly `path:message` (line, text, hint), exit 1
    (read with `options`, as `parse`)."""
    path = BROKEN / name
    with pytest.raises(DataError) as err:
        parse(path, source=source, **options)
    assert str(err.value) == f"{path}:{message}"
    assert err.value.exit_code == 1
