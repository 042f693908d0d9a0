"""Rows as every report counts them: `pipeline.count` (stored rows -> fee rules -> reconcile's
matches -> derived rows) and what builds on counted rows alone: totals, the attribution of
costs, the exports' own running balances and the hints for rules the user still needs."""
