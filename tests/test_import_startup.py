"""`ledger import`'s files (a `list[Path]` argument) are coerced without typer's pydantic
adapter (ledger/cli/lazy.py `_fast_many`): the same paths, or the same error, as typer's own,
and an import loads no pydantic (its adapter and plugin scan were ~0.05 s of CPU of each
import)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_startup import _options, _outcome, _run_counting_modules


def _path_lists() -> list[tuple[str, object, object]]:
    from pathlib import Path as P

    found = [(path, command, param) for path, command, param in _options()
             if param.type_descriptor.annotation == list[P]]  # type: ignore[attr-defined]
    assert {path for path, _, _ in found} >= {"ledger import", "ledger hours import"}
    return found


def test_path_lists_coerce_as_typer_does(tmp_path: Path) -> None:
    """Lists of files that exist or not, directories, Paths, blanks and non-lists: the fast
    coercion answers as typer's pydantic one, value or error."""
    from typer._click import Context

    file = tmp_path / "file.csv"
    file.write_text("x")
    samples: list[object] = [
        None, (), [], (str(file),), [str(file), str(tmp_path / "nothing")], (file,),
        (str(tmp_path),), ("",), (str(file), ""), ("-",), ("a", "b", "a"), str(file), file,
        (5,), (None,), [Path("relative/x.csv")], (str(file) + "/",)]
    for path, command, param in _path_lists():
        runtime = param.get_runtime_param()  # type: ignore[attr-defined]
        ctx = Context(command)
        typer_own = runtime.build()
        for value in samples:
            fast = _outcome(runtime, value, param, ctx)
            slow = _outcome(typer_own, value, param, ctx)
            assert fast == slow, (path, value)


def test_plain_path_lists_do_not_build_typer_coercion(tmp_path: Path) -> None:
    """Files given as words take the fast path: typer's builder is never asked for."""
    from typer._click import Context

    from ledger.cli.lazy import _AsIs

    file = tmp_path / "file.csv"
    file.write_text("x")
    for _, command, param in _path_lists():
        runtime = param.get_runtime_param()  # type: ignore[attr-defined]

        def refuse() -> None:
            raise AssertionError("typer's coercion was built")

        fast = _AsIs(refuse)
        got = fast.coerce((str(file), str(tmp_path / "new.csv")), param, Context(command))
        assert got == [file, tmp_path / "new.csv"]
        assert all(type(p) is type(file) for p in got)
        assert isinstance(runtime, _AsIs)


@pytest.mark.parametrize("twice", [False, True])
def test_import_loads_no_pydantic(tmp_path: Path, twice: bool) -> None:
    """A whole `ledger import` (the demo's exports, in the commands tests.test_cli's
    `demo_imports` takes) runs without loading pydantic, through typer's app too (an option
    given twice: ledger/cli/fast.py leaves the line to it)."""
    from tests.test_cli import demo_imports

    given = ["--format", "table"] * (2 if twice else 1)
    for args in demo_imports():
        loaded, printed, stderr = _run_counting_modules(
            ["--ledger", str(tmp_path / "led"), "import", *map(str, args), *given],
            ("pydantic", "typer"))
        assert loaded == (["typer"] if twice else []), stderr
        assert all(f"{a.name}: " in printed for a in args if isinstance(a, Path)), stderr
    assert (tmp_path / "led").is_dir(), stderr


def test_settle_loads_without_collecting_as_the_program_and_leaves_the_collector_as_it_was(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """As the program, process.settle runs no collection while modules load (what they make
    lives as long as the process) and the collector is on again after, or stays off where it
    was off; called in-process, collections run as ever."""
    import gc
    import sys

    from ledger.cli import process

    runs: list[str] = []

    def loading(name: str) -> None:
        runs.append(f"{name}:{gc.isenabled()}")

    monkeypatch.setattr("importlib.import_module", loading)
    process.settle("in_process")
    assert runs == ["in_process:True"] and gc.isenabled()
    monkeypatch.setattr(process, "ends_process", lambda: True)
    try:
        process.settle("as_program")
        assert runs[-1] == "as_program:False" and gc.isenabled()
        gc.disable()
        process.settle("off")
        assert runs[-1] == "off:False" and not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()
    assert "as_program" not in sys.modules
