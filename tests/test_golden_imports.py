"""Every golden export parses to exactly its expected rows, and is detected as one format."""

from __future__ import annotations

import pytest

from tests import golden


@pytest.mark.parametrize("expected", golden.goldens(),
                         ids=lambda p: str(p.relative_to(golden.DATA)))
def test_golden_rows(expected):
    golden.check(expected)
