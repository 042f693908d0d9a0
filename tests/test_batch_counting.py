"""A chunk of workers counted together (ledger/batch/counting.py: count_many) gives each worker
exactly the counted rows it gets counted alone (count_rows): ids tagged per worker
(rules.worker_ids), so two workers with the same donated file stay apart and no transfer of
one worker pairs with another's credit; a worker with its own [reconcile] is counted alone."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from ledger.batch import counting
from ledger.batch.worker import read_config
from ledger.core.config import Config
from ledger.core.schema import sha256_hex
from rules.worker_ids import derived_id, tag, untagged, worker
from tests.test_reconcile import frame, row

DIRECT = frame([  # Upwork's Direct to Local Bank in USD, credited in PKR: a conversion
    row("2024-06-03", "upwork", "earning", "1200", "USD", category="hourly",
        description="Invoice"),
    row("2024-06-07", "upwork", "transfer", "-1000", "USD", category="withdrawal",
        ref="612340252", description="Withdrawal Request: Direct to Local Bank: xxxx-4417"),
    row("2024-06-10", "bank:hbl", "transfer", "278000", "PKR",
        description="INWARD REMITTANCE UPWORK 612340252"),
])
DEDUCTED = frame([  # 15 USD lost on the way: an intermediary deduction
    row("2024-06-03", "payoneer", "transfer", "-500", "USD", ref="P9",
        description="Transfer to bank account"),
    row("2024-06-06", "bank:hbl-usd", "transfer", "485", "USD",
        description="Inward Remittance PAYONEER INC"),
])
SENT_ONLY = DEDUCTED.filter(pl.col("amount") < 0)
"""A withdrawal whose credit is in no file of this worker..."""
CREDITED_ONLY = DEDUCTED.filter(pl.col("amount") > 0)
"""...and another worker's credit it would match if matching leaked across workers."""
CONVERTED = frame([  # net-of-fee earnings, a PayPal conversion, a [delivered ...] withdrawal
    row("2024-06-02", "fiverr", "earning", "80", "USD", category="net_of_fee",
        description="Order"),
    row("2024-06-10", "paypal", "fx", "-280", "EUR", category="conversion", ref="C1",
        related_ref="CONV1", description="General Currency Conversion"),
    row("2024-06-10", "paypal", "fx", "300", "USD", category="conversion", ref="C2",
        related_ref="CONV1", description="General Currency Conversion"),
    row("2024-06-11", "paypal", "transfer", "-300", "USD", category="withdrawal", ref="W1",
        description="General Withdrawal - BDO ****1234"),
    row("2024-06-14", "bank:bdo", "transfer", "17100", "PHP",
        description="INWARD REMITTANCE PAYPAL"),
    row("2024-06-12", "payoneer", "transfer", "-100", "USD", ref="P2",
        description="Transfer to bank [delivered 5800.00 PHP]", delivered=("5800.00", "PHP")),
])


@pytest.fixture(scope="module")
def own_toml(tmp_path_factory) -> Config:
    path = tmp_path_factory.mktemp("own") / "ledger.toml"
    path.write_text('country = "PK"\n[reconcile]\nwindow_days = {payoneer = 1}\n')
    return read_config(path)


def chunk(own: Config) -> list[counting.Item]:
    return [([DIRECT], [], "PK", Config()),
            ([DIRECT], [], "PK", Config()),  # the same donated file as the first
            ([DEDUCTED], [], "PK", Config()),
            ([SENT_ONLY], [], "PK", Config()),
            ([CREDITED_ONLY], [], "PK", Config()),
            ([CONVERTED], [], "PH", Config()),
            ([DEDUCTED], [], "PK", own),  # its own [reconcile]: counted alone
            ([], [], "PK", Config())]  # nothing to count: its own error


def alone(item: counting.Item) -> counting.Counted | BaseException:
    try:
        return counting.count_rows(*item)
    except Exception as exc:
        return exc


def assert_same(got: counting.Counted | BaseException,
                want: counting.Counted | BaseException) -> None:
    if isinstance(want, BaseException):
        assert type(got) is type(want) and str(got) == str(want)
        return
    assert isinstance(got, counting.Counted)
    assert_frame_equal(got.counted, want.counted)
    assert (got.own_rates, got.rows, got.first, got.last, got.local) == (
        want.own_rates, want.rows, want.first, want.last, want.local)


def test_a_chunk_counts_each_worker_as_alone(own_toml, monkeypatch):
    items = chunk(own_toml)
    wanted = [alone(item) for item in items]
    called = []
    real = counting.count_rows
    monkeypatch.setattr(counting, "count_rows", lambda *a: called.append(a) or real(*a))
    got = counting.count_many(items)
    assert [a[3] for a in called] == [own_toml]  # only the worker with its own [reconcile]
    for have, want in zip(got, wanted, strict=True):
        assert_same(have, want)
    kinds = [g.counted["kind"].cast(pl.String).to_list() for g in got[:7]]
    assert kinds[0] == kinds[1] == ["earning", "fx", "fx", "transfer", "transfer"]
    assert got[2].counted.filter(pl.col("kind") == "bank_fee")["amount"].to_list() == [
        Decimal("-15")]
    assert kinds[3] == ["transfer"] and kinds[4] == ["transfer"]  # never paired across workers
    assert got[5].own_rates and kinds[5].count("platform_fee") == 1
    assert isinstance(got[7], Exception) and "no export" in str(got[7])


def test_a_group_that_fails_together_is_counted_alone(own_toml, monkeypatch):
    def broken(*_):
        raise RuntimeError("chunk")

    monkeypatch.setattr(counting, "count_together", broken)
    items = chunk(own_toml)
    for have, item in zip(counting.count_many(items), items, strict=True):
        assert_same(have, alone(item))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 3), min_size=7, max_size=7))
def test_any_partition_into_chunks_gives_the_same_rows(own_toml, labels):
    items = chunk(own_toml)[:7]
    wanted = [alone(item) for item in items]
    for label in set(labels):
        at = [i for i, x in enumerate(labels) if x == label]
        for i, have in zip(at, counting.count_many([items[i] for i in at]), strict=True):
            assert_same(have, wanted[i])


def test_worker_ids_are_the_plain_ones_without_a_tag():
    ids = pl.DataFrame({"id": ["ab12", tag(7) + "ab12"]})
    plain = ids.select(sha256_hex(pl.lit("ab12:fee")).str.slice(0, 32)).item()
    found = ids.select(derived_id("fee").alias("d"), worker("id").alias("w"),
                       untagged("id").alias("u"))
    assert found["d"].to_list() == [plain, tag(7) + plain]
    assert found["w"].to_list() == ["", "000007"]
    assert found["u"].to_list() == ["ab12", "ab12"]
