#!/usr/bin/env bash
# Run zoo's test suite against zoo as installed (not the source tree), from a scratch folder.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not fashion"`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
"$ZOO_PY" -m pytest "$ZOO_REPO/tests" -q -p no:cacheprovider "$@"
