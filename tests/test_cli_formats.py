"""Each command offers only the output formats it can write."""

from __future__ import annotations

import pytest

from tests.test_cli import run


@pytest.mark.parametrize(("args", "allowed"), [
    (("import", "x.csv"), "'table', 'json'"),
    (("report",), "'table', 'json', 'csv', 'html'"),
    (("transactions",), "'table', 'json', 'csv'"),
])
def test_unwritable_formats_are_usage_errors(tmp_path, args, allowed):
    result = run(*args[:1], "--format", "html" if args[0] != "report" else "xml", *args[1:],
                 cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"is not one of {allowed}" in result.stderr
