"""Start-up of the `ledger` command: build only what the command line asks for.

Typer builds a click command from each function's signature (every annotation evaluated, every
option converted): for the whole app that costs about as much as Python's start-up. `for_args`
returns the app with only the command the arguments name; for the listing (`ledger --help`,
`ledger` alone) every command is replaced by a stand-in with its name and help but no options.
An unknown name gets the whole app, so click's error and suggestions are the usual ones.

`Group` is the class of the app's groups: an option left out stays None, and a choice, text,
path or number given is coerced as typer (0.2x) would, without its pydantic coercion (an import
of 0.2 s and an adapter per option) that `ledger report --help` would otherwise pay for
`--ledger` and `--width` before printing anything, and `ledger report --month 2024-06` for
each option given.
"""

import copy
import itertools
import re
from collections.abc import Callable
from enum import Enum
from pathlib import Path, PurePath
from typing import Any, get_args

import typer
from typer.core import TyperGroup
from typer.main import get_command_name
from typer.models import CommandInfo

from ledger.cli.fast import command_name


class _AsIs:
    """An option's coercion that does typer's without pydantic for what the commands take
    (None, a flag, a choice, text, a path, a whole number within its bounds, words given any
    number of times), building typer's own only for another value or one that would fail
    (`build`: typer's lazy builder of it; its errors are the usual ones). Typer 0.2x builds a
    pydantic adapter for every option, 0.1-0.3 s of an everyday command."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self.build = build

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if param.multiple or param.nargs != 1:
            fast = _fast_many(value, param, ctx)
        elif value is None or (getattr(param, "is_flag", False) and isinstance(value, bool)):
            return value
        else:
            fast = _fast(value, param, ctx)
        if fast is not _SLOW:
            return fast
        return self.build().coerce(value, param=param, ctx=ctx)


_SLOW = object()
_DIGITS = re.compile(r"[0-9]{1,18}")


def _fast_many(value: Any, param: Any, ctx: Any) -> Any:
    """`_fast` of an option given any number of times: none is (), words are a list, paths
    (`ledger import`'s files) a list of what `_fast` makes of each."""
    if value is None:
        return ()
    descriptor = param.type_descriptor
    info = descriptor.parameter_info
    if info.parser is not None or not isinstance(value, (list, tuple)):
        return _SLOW
    if descriptor.annotation == list[str] and all(isinstance(v, str) for v in value):
        return list(value)
    if descriptor.annotation == list[Path]:
        paths = [_path(v, info, param, ctx) for v in value]
        return _SLOW if any(p is _SLOW for p in paths) else paths
    return _SLOW


def _path(value: Any, info: Any, param: Any, ctx: Any) -> Any:
    """Typer's coercion of a path given as a non-empty text or a Path (pydantic's `Path`
    makes `Path(value)` of it), else _SLOW."""
    from typer._param_types import coerce_cli_path

    if not isinstance(value, (str, Path)) or not str(value) or info.path_type is not None:
        return _SLOW
    try:
        return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
    except Exception:  # typer's own coercion raises the usual error
        return _SLOW


def _fast(value: Any, param: Any, ctx: Any) -> Any:
    """What typer's pydantic coercion of `value` returns, or _SLOW where that is not plain."""
    from typer._param_types import coerce_cli_choice

    kind = param.type_descriptor.annotation
    info = param.type_descriptor.parameter_info
    if info.parser is not None or not isinstance(kind, type):
        return _SLOW
    if issubclass(kind, Enum):
        if isinstance(value, kind):
            return value
        try:
            return coerce_cli_choice(value, choices=list(kind),
                                     case_sensitive=info.case_sensitive, ctx=ctx)
        except ValueError:
            return _SLOW
    if kind is str and isinstance(value, str):
        return value
    if kind is int and not info.clamp and (
            type(value) is int or (isinstance(value, str) and _DIGITS.fullmatch(value))):
        number = int(value)
        if (info.min is None or number >= info.min) and (info.max is None or number <= info.max):
            return number
        return _SLOW
    if kind is Path:
        return _path(value, info, param, ctx)
    return _SLOW


def _as_is(param: Any) -> Any:
    build = getattr(param, "get_runtime_param", None)  # typer >= 0.2x only
    if build is not None and "get_runtime_param" not in vars(param):
        param.get_runtime_param = lambda: _AsIs(build)
    return param


def _as_usual(param: Any) -> Any:
    """`param` shown in --help as click shows it. Typer 0.2x shows an argument by its
    parameter's name in braces (`import [OPTIONS] {paths}...`, `{import_id}`) and a list's type
    as `<list[Path]>`: here an argument is its metavar or its name in capitals (`PATHS...`,
    `IMPORT_ID`, `[AMOUNT]` when optional; `Missing argument 'PATHS...'`) and a list's type
    that of one value (`<path>`, `<str>`: the option's help says it repeats)."""
    if getattr(param, "param_type_name", None) == "argument":
        name = (param.metavar or param.name or "").upper() + ("..." if param.nargs != 1 else "")
        usage = name if param.required else f"[{name}]"
        param._rich_display_name = lambda: name
        param._usage_display_name = lambda: usage
        param.get_error_hint = lambda: f"'{name}'"
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None and descriptor.is_list and descriptor.choices is None:
        element = (get_args(descriptor.annotation) or (str,))[0]
        label = descriptor.path_type if isinstance(element, type) and \
            issubclass(element, PurePath) else getattr(element, "__name__", str(element))
        param.display_type = lambda ctx: f"<{label}>"
    return param


def _help_as_is(command: Any) -> None:
    """`command`'s --help option, made when asked for, coerced by `_AsIs` too."""
    made = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = made(ctx)
        return option if option is None else _as_is(option)

    command.get_help_option = get_help_option


class Group(TyperGroup):
    """A typer group whose options and its commands' (`--help` included) cost no pydantic
    where typer's coercion is plain (see `_AsIs`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            _as_usual(_as_is(param))
        for command in self.commands.values():
            if not isinstance(command, Group):
                _help_as_is(command)
                for param in command.params:
                    _as_usual(_as_is(param))

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        return option if option is None else _as_is(option)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        return name, command, json_as_format(command, rest)


def json_as_format(command: Any, args: list[str]) -> list[str]:
    """`command`'s words `args` with `--json` read as `--format json`: a hidden alias on every
    command whose --format offers json and that has no --json of its own (`ledger report
    --json`; `doctor --json` and `hours show --json` as they were). Only the command's own
    words: a value of one of its options stays as given, and a group's subcommand (and what
    follows it) is left to the group (a Group too)."""
    params = getattr(command, "params", None) or []
    formats = [p for p in params if "--format" in p.opts]
    if not formats or "--json" not in args or any("--json" in p.opts for p in params):
        return args
    kind = getattr(getattr(formats[0], "type_descriptor", None), "annotation", None)
    if not (isinstance(kind, type) and issubclass(kind, Enum) and "json" in
            {str(getattr(choice, "value", choice)) for choice in kind}):
        return args
    valued = {o for p in params if p.param_type_name == "option"
              and not getattr(p, "is_flag", False) for o in p.opts}
    subcommands = getattr(command, "commands", {})
    words: list[str] = []
    rest = iter(args)
    for word in rest:
        if word == "--" or word in subcommands:
            return [*words, word, *rest]
        if word == "--json":
            words += ["--format", "json"]
            continue
        words.append(word)
        if word in valued:
            words += [*itertools.islice(rest, 1)]
    return words


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
    only.registered_commands, only.registered_groups = commands, [_named(g, args) for g in groups]
    return only


def _named(group: Any, args: list[str]) -> Any:
    """`group` (a sub-app such as `reconcile`) whose commands `args` do not name are stand-ins:
    `ledger reconcile --month 2024-06` converts no signature of `link` and `unlink`, while
    their names and help stay for the group's --help and click's suggestions (a command runs
    only when its name is one of the words)."""
    words = set(args)
    sub = group.typer_instance
    if all(_name(info) in words for info in sub.registered_commands):
        return group
    group = copy.copy(group)
    sub = group.typer_instance = copy.copy(sub)
    sub.registered_commands = [info if _name(info) in words else _standing_in(info)
                               for info in sub.registered_commands]
    return group


def _standing_in(info: Any) -> Any:
    info = copy.copy(info)
    info.callback = _stand_in(info.callback)
    return info


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
        listed.registered_commands.append(_standing_in(info))
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
