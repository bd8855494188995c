#!/usr/bin/env bash
# build.sh [--asan] - configure and build machina (build/ or build-asan/).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = --asan ]; then
    dir="$SRC/build-asan"; extra=(-DMACHINA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
else
    dir="$SRC/build"; extra=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi
cmake -S "$SRC" -B "$dir" "${extra[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)" 2>&1 | grep -Ev '^\[ *[0-9]+%\]|^-- |Consolidate compiler' || true
test -x "$dir/machina" -a -x "$dir/machina-replay" || { echo "build.sh: build failed in $dir" >&2; exit 1; }
