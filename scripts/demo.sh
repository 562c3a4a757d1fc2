#!/usr/bin/env bash
# Set up, build the demo image, boot it under QEMU (KVM when it works, else TCG).
# Extra arguments go to tyn.run, e.g. ./scripts/demo.sh --accel tcg -p 8080:80
set -euo pipefail
cd "$(dirname "$0")/.."

# The demo: arguments to `python -m tyn.build`; the image is what its -o names.
DEMO_BUILD=(kernel -o build/tyn.elf)

./scripts/setup.sh
PY=.venv/bin/python
image=
for ((i = 0; i < ${#DEMO_BUILD[@]} - 1; i++)); do
    [ "${DEMO_BUILD[i]}" = -o ] && image=${DEMO_BUILD[i + 1]}
done
"$PY" -m tyn.build "${DEMO_BUILD[@]}"
exec "$PY" -m tyn.run "$image" "$@"
