#!/bin/sh
# Sets everything up, then runs the bundled legacy-style example (examples/legacy_clock.c,
# which calls the vsyscall page like old static glibc did) under vdsorun: first as a
# vsyscall=none kernel would run it (it dies), then emulated, with vdsorun's report.
set -u
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 125
BUILD_DIR="${BUILD_DIR:-build}"
echo
echo "\$ vdsorun --vsyscall=none $BUILD_DIR/examples/legacy_clock"
"$BUILD_DIR/src/vdsorun" --vsyscall=none "$BUILD_DIR/examples/legacy_clock"
echo "(exit status $?: what a vsyscall=none kernel does to this binary)"
echo
echo "\$ vdsorun $BUILD_DIR/examples/legacy_clock"
"$BUILD_DIR/src/vdsorun" "$BUILD_DIR/examples/legacy_clock"
status=$?
echo "(exit status $status)"
exit $status
