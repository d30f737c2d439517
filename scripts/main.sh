#!/usr/bin/env bash
# The main job: install, get Fashion-MNIST, then train the 20-hidden-layer recipe
# (fashion_deep_mlp) and the same net trained the pre-2010 way (sigmoid units, small random init,
# plain SGD with its rate picked on validation data from a grid), and print the comparison.
# Depth is where the stack's advantage (He init and BatchNorm; Swish and AdamW, validation's pick) is real,
# so it is what the main job shows.
# About 3.5 minutes on 2 CPU cores (measured with setup, 15 epochs at batch 128). Extra arguments go to `zoo bench`, e.g. `--epochs 5`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ZOO_REPO"
"$ZOO_BIN" bench fashion_deep_mlp --seeds 1 --no-ablation --epochs 15 --verbose 2 --out runs/main/fashion_deep_mlp "$@"
echo "main: results in $ZOO_REPO/runs/main/fashion_deep_mlp/ (report.md, results.json, curves.png)." \
     "Interrupted? Run bash scripts/main.sh again: finished runs are read back from runs/bench/."
