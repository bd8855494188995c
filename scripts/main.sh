#!/usr/bin/env bash
# main.sh - command 1 of the README: everything from a fresh clone.
# Installs what is missing, builds machina and the guest corpus, then boots
# the corpus Linux on machina, runs `ps` in its shell and powers it off.
# Afterwards `build/machina` alone gives you the busybox shell.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRC"
echo "== 1/4 packages"; scripts/setup.sh
echo "== 2/4 build";    scripts/build.sh
echo "== 3/4 corpus";   scripts/corpus.sh build/corpus
echo "== 4/4 boot the corpus Linux on machina (2 harts), run ps, power off"
script=$(mktemp); trap 'rm -f "$script"' EXIT
cat > "$script" <<'EOS'
expect [machina] shell ready
send ps
expect # 
send poweroff -f
EOS
build/machina -smp 2 -serial-script "$script" </dev/null
