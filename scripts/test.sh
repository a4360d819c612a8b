#!/bin/sh
# Sets everything up, then runs every test: unit, integration, guest kernels and the kernel's
# own selftests (suite by suite), and the unit, integration, vdso, scan and patch suites again in an
# AddressSanitizer/UBSan build; also builds the release configuration distributions use
# (warnings as errors, so it stays warning-free), counted as one result.
# The last line is "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
scripts/setup.sh --tests || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
BUILD_DIR="${BUILD_DIR:-build}"
SAN_DIR="${SAN_DIR:-build-sanitize}"
REL_DIR="${REL_DIR:-build-release}"
# Sanitizer runtimes cannot link -static: this build's vdsorun is dynamic.
BUILD_DIR="$SAN_DIR" MESON_ARGS="-Db_sanitize=address,undefined -Db_lundef=false -Dstatic_executable=false" \
  scripts/setup.sh >/dev/null || { echo "sanitizer build failed"; echo "0 passed, 1 failed"; exit 1; }

# The release build: vdsorun and its man page as a distribution builds them (-O3, NDEBUG, no
# tests). One line in $REL_DIR.status for count_results.py: "PASS|FAIL name: detail".
if BUILD_DIR="$REL_DIR" MESON_ARGS="--buildtype=release -Dtests=false" scripts/setup.sh \
    >"$REL_DIR.out" 2>&1; then
  echo "PASS release-build: $REL_DIR (--buildtype=release -Dwerror=true)" >"$REL_DIR.status"
else
  echo "FAIL release-build: $REL_DIR (--buildtype=release -Dwerror=true, log $REL_DIR.setup.log): $(tail -5 "$REL_DIR.out" | tr '\n' ' ')" \
    >"$REL_DIR.status"
fi

rc=0
meson test -C "$BUILD_DIR" --print-errorlogs --num-processes 2 || rc=1
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
  meson test -C "$SAN_DIR" --print-errorlogs --num-processes 2 --suite unit --suite integration --suite vdso --suite scan --suite patch \
  || rc=1
python3 scripts/count_results.py --status "$REL_DIR.status" "$BUILD_DIR" "$SAN_DIR" || rc=1
exit $rc
