#!/bin/bash
# Training seconds per tf.distribute configuration for one small recipe, 5 epochs each (README,
# "More devices, more machines"). Usage: scripts/measure_distribute.sh RECIPE.toml
set -u
cd "$(dirname "$0")/.."
recipe=${1:?usage: scripts/measure_distribute.sh RECIPE.toml}
out=${OUT:-/tmp/zoo-distribute}
rm -rf "$out" && mkdir -p "$out"
run() {
    local name=$1; shift
    .venv/bin/zoo "$@" --epochs 5 --set train.early_stopping_patience=0 --out "$out/$name" > "$out/$name.log" 2>&1
    echo "$name rc=$? $(.venv/bin/python -c "import json, sys; m = json.load(open(sys.argv[1])); print('train_seconds', m['train_seconds'], 'test_accuracy', round(m['test_accuracy'], 4))" "$out/$name/metrics.json")"
}
run none train "$recipe"
run none_plainfit train "$recipe" --set train.fast_path=false
run mirrored1 train "$recipe" --distribute mirrored --devices 1
run mirrored2 train "$recipe" --distribute mirrored --devices 2
run workers2 launch --workers 2 --port 24400 train "$recipe"
