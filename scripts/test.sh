#!/usr/bin/env bash
# test.sh - command 2 of the README: set up what is missing, build (normal
# and AddressSanitizer+UBSan), build the corpus, then run every test.
# The unit tests run under the sanitizers first; the last thing printed is
# ctest's summary of the whole suite in build/.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRC"
scripts/setup.sh
scripts/build.sh
scripts/build.sh --asan
scripts/corpus.sh build/corpus
ln -sfn ../build/corpus build-asan/corpus
echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest -L unit --output-on-failure -j2)
echo "== the whole suite"
cd build && ctest --output-on-failure -j2
