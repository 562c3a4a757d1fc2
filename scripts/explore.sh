#!/usr/bin/env bash
# Explore with Hypothesis: random seeds and TYN_HYPOTHESIS_SCALE (default 10) times the
# examples of each property test, instead of the fixed, derandomized draw of scripts/test.sh.
# Only the Hypothesis tests run unless you name others; extra arguments go to pytest, e.g.
#   ./scripts/explore.sh tests/test_fs_differential.py
#   TYN_HYPOTHESIS_SCALE=50 ./scripts/explore.sh -k tmpfs
# A failure prints the falsifying example: add it as an @example to the test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export TYN_HYPOTHESIS=explore
exec .venv/bin/python -m pytest -m hypothesis -p no:cacheprovider "$@"
