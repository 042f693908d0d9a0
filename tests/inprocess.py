"""The app's click command built once per process, and typer's CliRunner that uses it.

typer builds the whole app's click command on every `CliRunner.invoke` (about 0.14 s: the type
hints of every command's signature evaluated); tests that invoke it many times, or walk its
options, build it once.
"""

from __future__ import annotations

import functools
from typing import Any
from unittest import mock

import typer.main
from typer.testing import CliRunner


@functools.cache
def click_command(app: typer.Typer) -> Any:
    """typer's click command for `app`, built on first use."""
    return typer.main.get_command(app)


class BuiltOnce(CliRunner):
    """A CliRunner whose `invoke(app, ...)` reuses `click_command(app)`."""

    def invoke(self, app, *args, **kwargs):  # type: ignore[override]
        command = click_command(app)
        with mock.patch("typer.testing._get_command", lambda _: command):
            return super().invoke(app, *args, **kwargs)
