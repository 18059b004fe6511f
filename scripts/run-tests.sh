#!/usr/bin/env bash
# Runs the test suite inside .venv (made by `make test`).
# Starts the services the tests need and stops them afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

# Debian packages (Chromium, a CJK font, Java, Maven) when missing.
bash scripts/system-deps.sh
# A real Neo4j (jars from Maven Central, cached outside the repo) on its own test port;
# stopped when the run ends, whatever happens.
"$BIN/python" -m credgraph.graph.neo4j_server start --test
trap '"$BIN/python" -m credgraph.graph.neo4j_server stop --test' EXIT

status=0
"$BIN/python" -m pytest "$@" || status=$?
# pytest's 5 means "no tests collected" (an empty selection), not a failure.
if [ "$status" -eq 5 ]; then status=0; fi
exit "$status"
