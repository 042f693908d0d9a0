"""Other projects' public sample exports and parser fixtures (tests/data/real, listed with their
source and licence in SOURCES.md), each imported through the real `ledger import` as a user would:
valid files give exactly the rows they hold and their own balances foot; deliberately broken ones
are refused in our words (file named, no traceback, no library text). The outcome of each file is
in tests/data/real/expected.toml, counted from the file itself, not from our importer."""

from __future__ import annotations

import json
import re
import tomllib
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from tests.test_cli import as_json, run

REAL = Path(__file__).parent / "data" / "real"
EXPECTED: dict[str, dict] = tomllib.loads((REAL / "expected.toml").read_text("utf-8"))

LIBRARY_TEXT = re.compile(r"Traceback|internal error|object at 0x|\(\?P<|matching id=|\bError\(|"
                          r"=None\b|\[\[", re.IGNORECASE)
"""What a user must never see: tracebacks, our own crash wording, a library's reprs and regexes."""


def cases() -> list:
    out = []
    for name, spec in sorted(EXPECTED.items()):
        marks = [pytest.mark.xfail(strict=True, reason=spec["xfail"])] if "xfail" in spec else []
        out.append(pytest.param(name, spec, marks=marks, id=name))
    return out


def test_manifest_lists_every_file_and_sources_names_each():
    """Each file has an expected outcome and a line in SOURCES.md; nothing is left unlisted."""
    files = {p.relative_to(REAL).as_posix() for p in REAL.rglob("*")
             if p.is_file() and p.name not in ("expected.toml", "SOURCES.md")}
    assert files == set(EXPECTED)
    sources = (REAL / "SOURCES.md").read_text("utf-8")
    assert [name for name in sorted(files) if f"`{name}`" not in sources] == []
    assert len(files) >= 40
    assert sum(p.stat().st_size for p in REAL.rglob("*")) < 3_000_000
    assert max(p.stat().st_size for p in REAL.rglob("*")) < 200_000


@pytest.mark.parametrize(("name", "spec"), cases())
def test_real_file(tmp_path, name, spec):
    path = REAL / name
    result = run("--ledger", "led", "import", "--format", "json", *spec.get("args", ()), path,
                 cwd=tmp_path)
    said = result.stdout + result.stderr
    assert not LIBRARY_TEXT.search(said), said
    if spec["outcome"] == "refuse":
        assert result.returncode == 1, said
        assert re.search(re.escape(str(path)) + (r":\d+:" if spec.get("line") else ""),
                         result.stderr), result.stderr
        assert re.search(spec.get("says", ""), result.stderr), result.stderr
        assert not (tmp_path / "led").exists() or _rows(tmp_path) == [], "a failed import wrote"
        return
    summary = json.loads(result.stdout) if result.returncode == 0 else None
    assert summary is not None, said
    (imported,) = summary["files"]
    assert imported["rows_read"] > 0 or spec["read"] == 0, \
        "a file never imports as '0 read' (unless header-only, as its entry says)"
    assert (imported["rows_read"], imported["added"]) == (spec["read"], spec["added"])
    rows = _rows(tmp_path)
    assert len(rows) == spec["added"]
    assert len({row["account"] for row in rows}) == spec["accounts"]
    descriptions = " | ".join(row["description"] or "" for row in rows)
    assert [text for text in spec.get("text", ()) if text not in descriptions] == []
    if "net" in spec:
        net: dict[str, Decimal] = defaultdict(Decimal)
        for row in rows:
            net[row["currency"]] += Decimal(row["amount"])
        assert {ccy: Decimal(v) for ccy, v in spec["net"].items()} == \
            {ccy: total for ccy, total in net.items() if total or ccy in spec["net"]}


def _rows(cwd: Path) -> list[dict]:
    return as_json(run("--ledger", "led", "transactions", "--format", "json", cwd=cwd))
