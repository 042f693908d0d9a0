"""Start-up of the `ledger` command: build only what the command line asks for.

Typer builds a click command from each function's signature (every annotation evaluated, every
option converted): for the whole app that costs about as much as Python's start-up. `for_args`
returns the app with only the command the arguments name; for the listing (`ledger --help`,
`ledger` alone) every command is replaced by a stand-in with its name and help but no options.
An unknown name gets the whole app, so click's error and suggestions are the usual ones.

`Group` is the class of the app's groups: an option left out stays None without typer (0.2x)
building its pydantic coercion first, an import of 0.2 s that `ledger report --help` would
otherwise pay for `--ledger` and `--width` before printing anything.
"""

import copy
from collections.abc import Callable
from enum import Enum
from typing import Any

import typer
from typer.core import TyperGroup
from typer.main import get_command_name
from typer.models import CommandInfo

VALUE_OPTIONS = ("--ledger", "--width")
"""The app's own options that take a value: the word after them is not a command."""


class _AsIs:
    """An option's coercion that returns None, a flag's True or False and a choice's default
    (already a member of its Enum) as typer's does, building typer's own only for another
    value (`build`: typer's lazy builder of it)."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self.build = build

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None or (getattr(param, "is_flag", False) and isinstance(value, bool)):
            return value
        kind = param.type_descriptor.annotation
        if isinstance(kind, type) and issubclass(kind, Enum) and isinstance(value, kind):
            return value
        return self.build().coerce(value, param=param, ctx=ctx)


def _as_is(param: Any) -> Any:
    build = getattr(param, "get_runtime_param", None)  # typer >= 0.2x only
    if build is not None and "get_runtime_param" not in vars(param) and param.nargs == 1 \
            and not param.multiple:
        param.get_runtime_param = lambda: _AsIs(build)
    return param


class Group(TyperGroup):
    """A typer group whose options that were not given (`--help` included) cost no pydantic."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            _as_is(param)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        return option if option is None else _as_is(option)


def command_name(args: list[str]) -> str | None:
    """The command `args` name (`report` in `--width 60 report --help`), None for none."""
    rest = iter(args)
    for word in rest:
        if word == "--":
            return None
        if word in VALUE_OPTIONS:
            next(rest, None)
        elif not word.startswith("-"):
            return word
    return None


def _name(info: Any) -> str | None:
    if isinstance(info, CommandInfo):
        return info.name or get_command_name(info.callback.__name__)
    return info.name


def for_args(app: typer.Typer, args: list[str]) -> typer.Typer:
    """`app` with only what `args` needs converted (see the module's docstring)."""
    name = command_name(args)
    if name is None:
        return listing(app)
    commands = [c for c in app.registered_commands if _name(c) == name]
    groups = [g for g in app.registered_groups if _name(g) == name]
    if not commands and not groups:
        return app
    only = copy.copy(app)
    only.registered_commands, only.registered_groups = commands, groups
    return only


def _stand_in(callback: Callable[..., Any] | None) -> Callable[..., Any] | None:
    """A function with `callback`'s name and help and no parameters (no `__wrapped__`, so
    typer reads no signature through it)."""
    if not callable(callback):  # None, or typer's placeholder for "not given"
        return callback

    def stand_in() -> None:  # pragma: no cover - listed, never run
        raise AssertionError("a stand-in for the listing was run")

    stand_in.__name__ = callback.__name__
    stand_in.__qualname__ = callback.__qualname__
    stand_in.__doc__ = callback.__doc__
    return stand_in


def listing(app: typer.Typer) -> typer.Typer:
    """`app` whose commands and groups are stand-ins: enough for `ledger --help`."""
    listed = copy.copy(app)
    listed.registered_commands = []
    for info in app.registered_commands:
        info = copy.copy(info)
        info.callback = _stand_in(info.callback)
        listed.registered_commands.append(info)
    listed.registered_groups = []
    for info in app.registered_groups:
        info = copy.copy(info)
        sub = info.typer_instance = copy.copy(info.typer_instance)
        sub.registered_commands, sub.registered_groups = [], []
        sub.info = copy.copy(sub.info)
        sub.info.callback = _stand_in(sub.info.callback)
        if sub.registered_callback is not None:
            sub.registered_callback = copy.copy(sub.registered_callback)
            sub.registered_callback.callback = _stand_in(sub.registered_callback.callback)
        info.callback = _stand_in(info.callback)
        listed.registered_groups.append(info)
    return listed
