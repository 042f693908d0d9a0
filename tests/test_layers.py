"""The layering of docs/architecture.md, checked over the source tree (ast, every import,
function-local ones included): no import cycle, nothing but the CLI (the `ledger.cli` package)
imports the CLI and no command module imports its app (`ledger.cli.main`), the library never
imports the renderers (`ledger.render*`, `ledger.html`, `*_render`), rules never import the
store, importers never import later layers.

What the code base still owes is listed in KNOWN, each entry with the issue that removes it:
the lists may only shrink (a fixed debt left listed fails too), so a new wrong-way import fails.
"""

from __future__ import annotations

import ast
import functools
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ledger", "importers", "rules")

KNOWN_CYCLES: set[frozenset[str]] = set()
"""None left: the counting pipeline (ledger.counting, issue 18) ended report -> payouts ->
report and report -> views -> report."""
KNOWN_WRONG: set[tuple[str, str]] = set()
MAX_LINES = 700
KNOWN_LONG: dict[str, int] = {}
"""Modules still over MAX_LINES and their size when listed: they may shrink, not grow."""


def modules() -> dict[str, Path]:
    found = {}
    for top in PACKAGES:
        for path in (ROOT / top).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                lines.update(n.lineno for n in ast.walk(sub) if hasattr(n, "lineno"))
    return lines


def import_graph() -> dict[str, set[str]]:
    """module -> project modules it imports (imports only for type checking left out); a copy
    of the one parse per test process, which callers may change."""
    return {mod: set(targets) for mod, targets in _parsed_graph().items()}


@functools.cache
def _parsed_graph() -> dict[str, set[str]]:
    mods = modules()

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        tree = ast.parse(path.read_text("utf-8"))
        skip = _type_checking_lines(tree)
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                targets = [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            for target in targets:
                resolved = resolve(target)
                if resolved and resolved != mod:
                    graph[mod].add(resolved)
    return graph


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.add(frozenset(component))
    return found


LAYERS = (
    ("ledger.core", 0), ("ledger", 0), ("importers", 1), ("rules", 1), ("ledger.store", 2),
    ("ledger.reconcile", 3), ("ledger.counting", 3),
    ("ledger.reports", 4), ("ledger.payouts", 4), ("ledger.batch", 4),
    ("ledger.render", 5), ("ledger.cli", 6))
"""Each package's layer (docs/architecture.md): a module imports its own layer and lower ones
only. The longest matching prefix decides (`ledger.core.money` is core, not `ledger`)."""
MAY_USE = {"importers": ("importers", "ledger.core"), "rules": ("rules", "ledger.core"),
           "ledger.core": ("ledger.core",)}
"""Packages kept narrower than their layer: the core and the two layers on it see only the
core (and themselves): importers never see rules, rules never see importers or the store."""
ENTRY = "ledger.cli.main"
"""The app: it imports every command module; they share ledger.cli.common, never import it."""


def _package(mod: str, table) -> str | None:
    found = [name for name in table
             if mod == name or mod.startswith(name + ".")]
    return max(found, key=len) if found else None


def layer(mod: str) -> int:
    return dict(LAYERS).get(_package(mod, dict(LAYERS)), 0)


def is_cli(mod: str) -> bool:
    """The `ledger.cli` package: the command line."""
    return mod == "ledger.cli" or mod.startswith("ledger.cli.")


def _points_up(mod: str, target: str) -> bool:
    narrow = _package(mod, MAY_USE)
    return (layer(target) > layer(mod)
            or (target == ENTRY and mod != "ledger.cli.__main__")
            or (narrow is not None and _package(target, dict.fromkeys(MAY_USE[narrow])) is None))


def wrong_way(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {(mod, target) for mod, targets in graph.items() for target in targets
            if _points_up(mod, target)}


IMPORTER_HELPERS = frozenset({
    "importers", "importers.base", "importers.raw_files", "importers.readers",
    "importers.sheets", "importers.sheet_limits", "importers.statements", "importers.ofx_envelope",
    "importers.profile_starter", "importers.stacked", "importers.csv_parts"})
"""What formats share (a file as read, readers, checks, spreadsheets, bank statement rows,
the OFX envelope, the profile drafter, many files parsed as one frame, a large CSV read in
parts). Every
other module of importers/ is a format, or part of one: a module named `<format>_<part>`
(bank_profiles, bank_table) belongs to `<format>`."""
IMPORTER_REGISTRY = "importers.registry"
"""The list of formats: the one module that imports them."""


def _format_of(mod: str) -> str:
    return mod.split(".")[1].split("_")[0]


def importer_crossings(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Imports between formats (or from a helper to a format): a format may use the helpers,
    its own parts and the core, never another format, so each can change alone."""
    found = set()
    for mod, targets in graph.items():
        if not mod.startswith("importers.") or mod == IMPORTER_REGISTRY:
            continue
        for target in targets:
            if not target.startswith("importers.") or target in IMPORTER_HELPERS:
                continue
            if target == IMPORTER_REGISTRY or mod in IMPORTER_HELPERS \
                    or _format_of(mod) != _format_of(target):
                found.add((mod, target))
    return found


def test_importers_never_import_each_other():
    assert importer_crossings(import_graph()) == set()


def test_the_checker_sees_an_importer_using_another():
    graph = {"importers.camt": {"importers.ofx", "importers.base", "ledger.core.errors"},
             "importers.bank": {"importers.bank_table", "importers.sheets"},
             "importers.bank_table": {"importers.bank_columns"},
             "importers.readers": {"importers.bank"},
             "importers.registry": {"importers.bank", "importers.ofx"},
             "importers.fiverr": {"importers.registry"}}
    assert importer_crossings(graph) == {("importers.camt", "importers.ofx"),
                                         ("importers.readers", "importers.bank"),
                                         ("importers.fiverr", "importers.registry")}


def test_no_new_import_cycle():
    assert cycles(import_graph()) == KNOWN_CYCLES


def test_imports_point_down():
    assert wrong_way(import_graph()) == KNOWN_WRONG


def test_modules_stay_small():
    sizes = {m: len(p.read_text("utf-8").splitlines()) for m, p in modules().items()}
    long = {m: n for m, n in sizes.items() if n > MAX_LINES}
    assert set(long) == set(KNOWN_LONG), "a module crossed the limit, or a listed one is fixed"
    grown = {m: (n, KNOWN_LONG[m]) for m, n in long.items() if n > KNOWN_LONG[m]}
    assert not grown, f"listed modules may only shrink: {grown}"


def test_the_checker_sees_a_cycle_and_a_wrong_way_import():
    graph = {"a": {"b"}, "b": {"a"}, "c": set(), "ledger.reports.report": {"ledger.cli"},
             "ledger.cli": set(), "ledger.render.quote": {"ledger.cli.common"},
             "ledger.cli.rates": {"ledger.cli.main", "ledger.cli.common", "ledger.render.rates"},
             "ledger.payouts": {"ledger.render.fit"}, "ledger.cli.common": set(),
             "ledger.cli.main": set(), "ledger.render.rates": set(), "ledger.render.fit": set()}
    assert cycles(graph) == {frozenset({"a", "b"})}
    assert wrong_way(graph) == {("ledger.reports.report", "ledger.cli"),
                                ("ledger.render.quote", "ledger.cli.common"),
                                ("ledger.cli.rates", "ledger.cli.main"),
                                ("ledger.payouts", "ledger.render.fit")}


OUTSIDE = re.compile(
    r"\.\./shared|shared/reference"  # the folder of papers we keep beside the repository
    r"|§"  # a numbered section of a document we do not ship
    r"|\bdesign\.md|\(design\b|\bdesign (?:section|§)|\bthe design\b"  # the design paper
    r"|\b[\w-]+\.md,?\s+(?:section\s*)?\d",  # "formats.md 5a", "fees.md section 2"
    re.IGNORECASE)
"""Ways the code and docs have cited papers a user does not have."""
MD_NAME = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.md)\b")
KEPT_BESIDE_DATA = ("README.md", "SOURCES.md")
"""Names of files the code writes (a panel's README.md) or keeps beside data (SOURCES.md)."""
SCANNED = (".py", ".md", ".toml", ".csv", ".txt", ".rules", ".cfg", ".json")


def outside_references(line: str, path: Path) -> list[str]:
    """What `line` of `path` cites that the repository does not hold: a phrasing of OUTSIDE, or
    a `*.md` name that is no file relative to the root or to `path`'s folder."""
    found = [m.group(0) for m in OUTSIDE.finditer(line)]
    for name in MD_NAME.findall(re.sub(r"https?://\S+", "", line)):
        if Path(name).name in KEPT_BESIDE_DATA:
            continue
        if not ((ROOT / name).is_file() or (path.parent / name).is_file()):
            found.append(name)
    return found


def scanned_files() -> list[Path]:
    """The repository's own files: what git tracks (not bench/out's generated gigabytes or a
    .venv); every file under the scanned folders when this is not a git checkout."""
    tops = (*PACKAGES, "docs", "tests", "bench")
    files = [ROOT / name for name in ("README.md", "Makefile", "pyproject.toml", ".ci/run")]
    listed = subprocess.run(["git", "ls-files", "-z", "--", *tops], cwd=ROOT,
                            capture_output=True, check=False)
    if listed.returncode == 0 and listed.stdout:
        names = sorted(ROOT / n for n in listed.stdout.decode().split("\0") if n)
        files += [p for p in names if p.suffix in SCANNED and p.is_file()]
    else:
        for top in tops:
            files += sorted(p for p in (ROOT / top).rglob("*")
                            if p.suffix in SCANNED and p.is_file())
    return [p for p in files if p != Path(__file__)]


@pytest.mark.parametrize("line", [
    "see ../" + "shared/reference/design.md", "as design section 7 says", "formats.md §6",
    "Evidence (formats.md 5a): none", "(fees.md section 2)", "(design §1: the reintermediator)",
    "(design: the worker sees)", "against the design's targets", "notes say (`benchmarks.md`)",
    "older figure (fees-platforms.md section 3)", "# fees.md: a $600 first job"])
def test_the_checker_sees_each_way_of_citing_an_outside_paper(line):
    assert outside_references(line, ROOT / "ledger" / "x.py")


@pytest.mark.parametrize("line", [
    "layouts: docs/formats.md", "(see [reconcile](reconcile.md))", "Müller Design GmbH",
    "written to DIR/README.md", "https://github.com/a/b/blob/main/NOTES.md", "design notes"])
def test_the_checker_lets_the_repositorys_own_docs_be_cited(line):
    where = ROOT / ("docs/x.md" if "reconcile.md)" in line else "ledger/x.py")
    assert outside_references(line, where) == []


def test_nothing_points_outside_the_repository():
    """A user has only the repository: docs, code and data may not cite papers we keep elsewhere
    (the design, format and fee notes they cite are in docs/, in the repository's own words)."""
    offenders = [f"{path.relative_to(ROOT)}:{n}: {hit}"
                 for path in scanned_files()
                 for n, line in enumerate(path.read_text("utf-8", "replace").splitlines(), 1)
                 for hit in outside_references(line, path)]
    assert offenders == []
