#!/usr/bin/env bash
# The main job: install, get Fashion-MNIST, train the default recipe (fashion_mlp) and its
# sigmoid/SGD baseline (learning rate picked on validation data), and print the comparison.
# Extra arguments go to `zoo bench`, e.g. `bash scripts/main.sh --epochs 5`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ZOO_REPO"
"$ZOO_BIN" bench fashion_mlp --seeds 1 --no-ablation --out runs/main/fashion_mlp "$@"
echo "main: results in $ZOO_REPO/runs/main/fashion_mlp/ (report.md, results.json, curves.png)." \
     "Interrupted? Run bash scripts/main.sh again: finished runs are read back from runs/bench/."
