#!/usr/bin/env bash
# The demo behind `make demo`: every table and figure of the paper on the generated synthetic dataset with the
# smoke profile (reports/out/smoke/synth/index.md lists them). A second run only re-renders from the cache.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/icff reproduce --dataset synth --profile smoke --out reports/out "$@"
