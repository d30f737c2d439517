#!/usr/bin/env bash
# Run zoo's checks: the test suite against zoo as installed (not the source tree), from a scratch
# folder; then, from the checkout, ruff (lint and format), the import-linter layers contract and the
# strict docs build. Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not slow"`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
venv_bin="$(dirname "$ZOO_PY")"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

echo "== ruff, import-linter"
cd "$ZOO_REPO"
"$venv_bin/ruff" check .
"$venv_bin/ruff" format --check .
"$venv_bin/lint-imports" --no-cache

echo "== docs: mkdocs build --strict"
# Not --quiet: it drops the build's warnings before --strict counts them, so a broken link passed. The log is
# kept, and only its warnings and errors are shown.
if ! NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true "$venv_bin/mkdocs" build --strict -d "$scratch/site" \
    >"$scratch/mkdocs.log" 2>&1; then
    grep -E "WARNING|ERROR|Aborted" "$scratch/mkdocs.log" >&2 || cat "$scratch/mkdocs.log" >&2
    exit 1
fi

echo "== tests"
cd "$scratch"
# Two workers (pytest-xdist), one per core: most tests are small nets whose time is Python, not BLAS;
# worksteal hands the long subprocess tests out so neither worker idles at the end.
"$ZOO_PY" -m pytest "$ZOO_REPO/tests" -q -p no:cacheprovider -n "${ZOO_TEST_WORKERS:-2}" --dist worksteal --durations=15 "$@"
