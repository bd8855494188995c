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
log="$dir/build.log"
if ! cmake --build "$dir" -j"$(nproc)" >"$log" 2>&1; then
    grep -E 'error|Error' "$log" | head -20 >&2
    echo "build.sh: build failed in $dir (full log: $log)" >&2
    exit 1
fi
grep -E 'warning:' "$log" | head -20 || true
