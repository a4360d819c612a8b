#!/bin/sh
# Sets everything up, then runs every test: unit, integration, guest kernels and the kernel's
# own selftests (suite by suite), and the unit + integration suites again in an
# AddressSanitizer/UBSan build. The last line is "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
scripts/setup.sh --tests || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
BUILD_DIR="${BUILD_DIR:-build}"
SAN_DIR="${SAN_DIR:-build-sanitize}"
BUILD_DIR="$SAN_DIR" MESON_ARGS="-Db_sanitize=address,undefined -Db_lundef=false" \
  scripts/setup.sh >/dev/null || { echo "sanitizer build failed"; echo "0 passed, 1 failed"; exit 1; }

rc=0
meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2 || rc=1
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
  meson test -C "$SAN_DIR" --print-errorlogs --num-processes 2 --suite unit --suite integration --suite vdso \
  || rc=1
python3 scripts/count_results.py "$BUILD_DIR" "$SAN_DIR" || rc=1
exit $rc
