"""The plain-text accounting tools the export tests check our output with, found or missing.

hledger comes from apt (.ci/run installs it); beancount v3 (`bean-check`, and `bean-query` from
the beanquery package), fava and duckdb from the test extra, so the virtualenv's own commands
come first (a beancount 2 from apt on PATH must not answer for them). Missing, a test skips,
saying how to install it; where CI=true it fails instead, since CI installs them all and a
skip there would hide a failure.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

HOW = {
    "hledger": "apt-get install hledger; .ci/run does",
    "bean-check": "pip install -e '.[test]' (beancount>=3)",
    "bean-query": "pip install -e '.[test]' (beanquery)",
    "beancount": "pip install -e '.[test]' (beancount>=3)",
    "beanquery": "pip install -e '.[test]'",
    "fava": "pip install -e '.[test]'",
    "duckdb": "pip install -e '.[test]'",
}


def missing(what: str) -> None:
    why = f"{what} is not installed ({HOW.get(what, 'see pyproject.toml')})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why}: CI must run this test, not skip it")
    pytest.skip(why)


def tool(name: str) -> str:
    """The command's path: the virtualenv's first, then PATH."""
    own = Path(sys.executable).parent / name
    found = str(own) if own.exists() else shutil.which(name)
    if found is None:
        missing(name)
    return found  # type: ignore[return-value]


def module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError:
        missing(name)
        raise


def run_tool(*command: str | Path, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True,
                          timeout=timeout, check=False)


def check_tool(*command: str | Path, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """Run a tool; it must succeed (its output in the failure message)."""
    result = run_tool(*command, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result
