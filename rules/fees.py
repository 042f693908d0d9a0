"""Fee schedules: effective-dated rules per platform, payment provider and tax, each with its
source, and the two things they are for (docs/fees.md): deriving the fee a source folded into a
net amount (`apply_rules`), and the fee a schedule expects for an amount (`expected_fee`,
`fee_expr`), which ledger/reports/fee_check.py compares with what was charged and rules/quote.py
walks hop by hop.

This module is what callers import; the work is in its sections: rules/fee_schedule.py (rules,
loading, lookup), rules/fee_math.py (expected fees), rules/fee_apply.py (`apply_rules`, gross of
net amounts), rules/fee_transfers.py (fees inside amounts, conversions, deductions on the way).

The bundled schedule is rules/data/fees.toml. A ledger's ledger.toml adds or replaces rules in
a `[fees]` table of the same shape, `[[fees.<provider>.<kind>]]`:

    [[fees.upwork.service_fee]]          # same id as a bundled rule: replaces it; fields
    id = "upwork.service_fee.2025-05-01" # left out are taken from the bundled rule, except
    default_rate = "0.12"                # source ("ledger.toml") and confidence ("user")

    [[fees.payoneer.fx_margin]]          # a new id adds a rule
    id = "payoneer.fx_margin.mine"
    from = 2024-01-01
    rate = "0.015"
    source = "measured on my statements"

    [[fees.upwork.service_fee]]          # enabled = false removes a bundled rule
    id = "upwork.service_fee.2023-05-03.legacy-5"
    enabled = false

    [fees.options]
    prior_billings = { "Acme Corp" = "12500.00" }  # billed before this ledger's first row
    tax_status = "pseb"          # Pakistan s.154A: pseb, filer (default), non_filer,
                                 # home_remittance

Rule fields: `id`; `from` (inclusive) / `until` (exclusive) dates; `type`:
- `percent` (default): rate x amount + `fixed` (a string in `currency`, default USD, or a
  table per currency), then `min`/`max`, nothing from `free_from` up, plus `tax_on_fee`
  (a rate on the fee, e.g. India's GST on PayPal's fee);
- `tiered`: marginal `tiers` ([{upto, rate}, ..., {rate}]) on the client's lifetime billings
  (`basis = "client_lifetime"`); `legacy_tiers` for clients billed before `from`;
- `per_contract`: the contract's own rate, `default_rate` when unknown, `min_rate`..`max_rate`;
- `by_status`: `rates` per taxpayer status, `default_status`;
- `unavailable` (the provider does not serve that case) and `unknown` (no published rate);
- `measured`: not a schedule but what the rows themselves show (a fee inside an amount, a
  withdrawal that delivered another currency, a credit short of what was sent): see
  `apply_rules`; `enabled = false` in ledger.toml turns one off.
Selectors (`method`, `country`, `scope`, `into`, `project_type`, `payer`, `booked_as`,
`contract_type`; a string or a list) restrict a rule to a case; the most specific matching
rule wins. `only_if_prior_billings_over` limits a rule to clients billed more than that before
its `from`. `round = false` keeps a figure unrounded (FX margins); otherwise a fee is rounded
to the currency's minor unit, half-even, as the platforms charge per transaction. Rates and
money are decimal strings (a TOML float is read by its shortest repr, never as binary).
`source` and `confidence` ("confirmed" or "unconfirmed") are reported with every use.
"""

from __future__ import annotations

from rules.fee_apply import (
    GROSS_CATEGORY,
    NET_OF_FEE,
    apply_rules,
    counted_rows,
    derive_fees,
    needs_derivation,
    net_accounts,
)
from rules.fee_math import (
    WORK,
    assign,
    expected_fee,
    fee_expr,
    marginal,
    quantum,
    round_to,
    status_rate,
)
from rules.fee_schedule import (
    ALIASES,
    BUNDLED,
    CONFIDENCE,
    FIELDS,
    LOCAL_CURRENCY,
    SELECTORS,
    TAX_STATUSES,
    TYPES,
    Options,
    Rule,
    Schedule,
    Tier,
    load_schedule,
    pct,
    rule_for,
)
from rules.fee_transfers import (
    MATCH_DAYS,
    arrived_conversions,
    match_intermediary,
    split_conversions,
    split_included_fees,
)

__all__ = ["ALIASES", "BUNDLED", "CONFIDENCE", "FIELDS", "GROSS_CATEGORY", "LOCAL_CURRENCY",
           "MATCH_DAYS", "NET_OF_FEE", "SELECTORS", "TAX_STATUSES", "TYPES", "WORK", "Options",
           "Rule", "Schedule", "Tier", "apply_rules", "arrived_conversions", "assign",
           "counted_rows",
           "derive_fees", "expected_fee", "fee_expr", "load_schedule", "marginal",
           "match_intermediary", "needs_derivation", "net_accounts", "pct", "quantum",
           "round_to", "rule_for", "split_conversions", "split_included_fees", "status_rate"]
