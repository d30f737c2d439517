#!/usr/bin/env bash
# Set up everything zoo needs on a Debian machine, idempotently:
#   1. Fashion-MNIST from Debian's package dataset-fashion-mnist (offline-friendly; needs root),
#   2. a virtual environment at .venv with zoo (non-editable, as users get it) and its test, lint and
#      docs extras (pytest, ruff, import-linter, MkDocs).
# Other scripts source this file; afterwards $ZOO_PY is the venv's python and $ZOO_BIN its zoo.
set -euo pipefail
ZOO_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ZOO_VENV="${ZOO_VENV:-$ZOO_REPO/.venv}"

if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "setup: installing Debian's dataset-fashion-mnist"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null
    else
        echo "setup: Fashion-MNIST is not installed and apt-get needs root here;" \
             "set ZOO_DATA_DIR to a folder with its four IDX .gz files" >&2
    fi
fi

if [ ! -x "$ZOO_VENV/bin/python" ]; then
    echo "setup: creating $ZOO_VENV"
    python3 -m venv "$ZOO_VENV"
fi
echo "setup: installing zoo and its dependencies into $ZOO_VENV"
pip_log="$(mktemp)"
# This machine's pip config names local wheel folders that may not exist; hide only those warnings.
if ! "$ZOO_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$ZOO_REPO[test,lint,docs]" >"$pip_log" 2>&1; then
    grep -v "^WARNING: Location" "$pip_log" >&2
    echo "setup: pip install failed (full log: $pip_log)" >&2
    exit 1
fi
grep -v "^WARNING: Location" "$pip_log" || true
rm -f "$pip_log"
"$ZOO_VENV/bin/python" -c "import zoo" # fail here, not later, if the install did not work
ZOO_PY="$ZOO_VENV/bin/python"
ZOO_BIN="$ZOO_VENV/bin/zoo"
export ZOO_PY ZOO_BIN ZOO_REPO
