#!/usr/bin/env bash
# Set up (apt, venv, the static OTP 27 ERTS build: cached after the first run), build the
# demo image -- the unmodified BEAM printing a greeting -- and boot it under QEMU.
# Extra arguments go to tyn.run, e.g. ./scripts/demo.sh --accel tcg.  tyn.run's default
# accelerator (auto) is hardware KVM when there is one, else TCG.
set -euo pipefail
cd "$(dirname "$0")/.."

# The demo: arguments to `python -m tyn.build`; the image is what its -o names.
DEMO_BUILD=(image --eval 'io:format("Hello from OTP 27 on Tyn!~n"), halt().' -o build/demo.img)

./scripts/setup.sh
PY=.venv/bin/python
image=
for ((i = 0; i < ${#DEMO_BUILD[@]} - 1; i++)); do
    [ "${DEMO_BUILD[i]}" = -o ] && image=${DEMO_BUILD[i + 1]}
done
"$PY" -m tyn.build "${DEMO_BUILD[@]}"
exec "$PY" -m tyn.run "$image" "$@"
