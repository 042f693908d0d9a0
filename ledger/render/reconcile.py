"""`ledger reconcile --format csv`: the JSON document (ledger.reconcile_json) as one row per
hop and per unmatched item, each cell made safe for spreadsheets."""

from __future__ import annotations

from ledger.reconcile.chains import HOP_COSTS


def to_csv(data: dict) -> str:
    """One row per hop (section hop) and per unmatched item (in_transit, unknown_origin,
    ambiguous), the waterfall lines as columns."""
    import csv
    import io

    from ledger.render.report import safe_cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["section", "chain", "hop", "from", "to", "out", "in", "sent_on", "arrived_on",
              "currency", "sent", *HOP_COSTS, "arrived", "received", "received_currency",
              "rate", "rule", "confidence", "age_days", "status", "ref"]
    writer.writerow(header)
    for c in data["chains"]:
        for n, h in enumerate(c["hops"], 1):
            row = {"section": "hop", "chain": c["id"], "hop": n, "from": h["from"], "to": h["to"],
                   "out": h["out"], "in": " ".join(h["in"]), "sent_on": h["sent_on"],
                   "arrived_on": h["arrived_on"], "currency": h["currency"], "sent": h["sent"],
                   **h["waterfall"], "received": h["received"]["amount"],
                   "received_currency": h["received"]["currency"], "rate": h["rate"] or "",
                   "rule": h["evidence"]["rule"], "confidence": h["confidence"],
                   "ref": " ".join(r for r in [h["refs"]["out"], *h["refs"]["in"]] if r)}
            writer.writerow([safe_cell(row.get(k, "")) for k in header])
    for t in data["in_transit"]:
        writer.writerow([safe_cell(v) for v in (
            "in_transit", "", "", t["account"], "", t["id"], "", t["date"], "", t["currency"],
            t["amount"], *[""] * (len(HOP_COSTS) + 6), t["age_days"], t["status"], t["ref"] or "")])
    for u in data["unknown_origin"]:
        writer.writerow([safe_cell(v) for v in (
            "unknown_origin", "", "", "", u["account"], "", u["id"], "", u["date"],
            u["currency"], "", *[""] * (len(HOP_COSTS) + 1), u["amount"], u["currency"],
            "", "", "", "", "", u["ref"] or "")])
    for a in data["ambiguous"]:
        writer.writerow([safe_cell(v) for v in (
            "ambiguous", "", "", a["account"], "", a["out"], " ".join(a["candidates"]),
            a["date"], "", a["currency"], a["amount"], *[""] * (len(HOP_COSTS) + 9))])
    return out.getvalue()
