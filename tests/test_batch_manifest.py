"""`ledger batch --manifest`: the folders of INPUT a manifest leaves out are said, not dropped
unseen (a donor forgotten in the manifest was simply missing from the panel)."""

from __future__ import annotations

import shutil

from tests.test_batch import GOOD
from tests.test_cli import ok, run


def test_folders_of_exports_in_no_manifest_row_are_named_on_the_terminal(tmp_path):
    donations = tmp_path / "donations"
    for name in ("amina", "bilal", "chen", "dina"):
        (donations / name).mkdir(parents=True)
        shutil.copy(GOOD[0], donations / name)
    (donations / "bilal" / "country.txt").write_text("PK\n")  # chen: one file of two listed
    shutil.copy(GOOD[2], donations / "chen")
    (donations / "empty").mkdir()  # no export: nothing to say
    (donations / "notes").mkdir()
    (donations / "notes" / "country.txt").write_text("PK\n")
    (donations / "workers.csv").write_text(
        f"worker,country,path\namina,PK,amina\nchen,IN,chen/{GOOD[0].name}\n", encoding="utf-8")
    result = ok(run("batch", "donations", "--manifest", "donations/workers.csv", "--out",
                    "out", "--k", "1", "--jobs", "1", cwd=tmp_path, env={"COLUMNS": "80"}))
    assert "2 workers, 2 files" in result.stdout
    assert ("warning: 2 folder(s) of exports in INPUT are in no manifest row, so not read:\n"
            "  donations/bilal, donations/dina\n  hint: add a row for each donor to include "
            "(worker,country,path), or move the\n        folder out of INPUT\n"
            ) in result.stderr
    # the names stay on the terminal: nothing in the output folder holds them
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert b"bilal" not in path.read_bytes() and b"dina" not in path.read_bytes()
    # every folder listed: nothing to say
    (donations / "workers.csv").write_text(
        "worker,country,path\namina,PK,amina\nbilal,,bilal\nchen,IN,chen\ndina,PK,dina\n",
        encoding="utf-8")
    result = ok(run("batch", "donations", "--manifest", "donations/workers.csv", "--out",
                    "out", "--k", "1", "--jobs", "1", cwd=tmp_path))
    assert "manifest row" not in result.stderr and "4 workers, 5 files" in result.stdout
