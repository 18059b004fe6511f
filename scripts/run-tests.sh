#!/usr/bin/env bash
# Runs the test suite inside .venv (made by `make test`).
# Starts the services the tests need and stops them afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

status=0
"$BIN/python" -m pytest "$@" || status=$?
# pytest's 5 means "no tests collected" (an empty selection), not a failure.
if [ "$status" -eq 5 ]; then status=0; fi
exit "$status"
