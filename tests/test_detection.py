"""Every export under tests/data/<format>/ (all formats, all helpers' files; not tests/data/broken,
not the .json expectations and options beside them) is recognised by exactly one format of the
registry: fingerprints must not overlap, and none may miss its own files."""

from __future__ import annotations

import pytest

from importers import registry
from tests import golden

SOURCES = sorted(path for path in golden.DATA.rglob("*")
                 if path.is_file() and len(path.relative_to(golden.DATA).parts) > 1
                 and path.relative_to(golden.DATA).parts[0] != "broken"
                 and not path.name.endswith(".json"))


def test_every_format_directory_has_goldens():
    assert SOURCES, "no golden exports found under tests/data"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: str(p.relative_to(golden.DATA)))
def test_detected_by_exactly_one_format(source):
    raw = registry.read(source)
    matched = [fmt.name for fmt in registry.formats() if fmt.detect(raw)]
    assert len(matched) == 1, f"{source.relative_to(golden.DATA)} matched {matched or 'nothing'}"
    assert registry.detect(raw).name == matched[0]
