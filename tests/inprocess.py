"""typer's CliRunner for the whole app, with the app's click command built once per process.

typer's runner builds the whole app's click command on every `invoke` (about 0.14 s: the type
hints of every command's signature evaluated); tests that invoke it many times build it once.
"""

from __future__ import annotations

from typing import Any, ClassVar
from unittest import mock

import typer.main
from typer.testing import CliRunner


class BuiltOnce(CliRunner):
    """A CliRunner whose `invoke(app, ...)` reuses the click command built for `app`."""

    built: ClassVar[dict[int, Any]] = {}

    def invoke(self, app, *args, **kwargs):  # type: ignore[override]
        command = BuiltOnce.built.get(id(app))
        if command is None:
            command = BuiltOnce.built[id(app)] = typer.main.get_command(app)
        with mock.patch("typer.testing._get_command", lambda _: command):
            return super().invoke(app, *args, **kwargs)
