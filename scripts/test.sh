#!/usr/bin/env bash
# Set up (scripts/setup.sh), then run the test suite: the default selection skips tests
# marked slow (add --run-slow or TYN_SLOW=1 for those).  Extra arguments go to pytest,
# e.g. ./scripts/test.sh tests/test_run.py -k banner
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
