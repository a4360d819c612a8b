#!/bin/sh
# Installs what vdsorun needs to build (and, with --tests, to run its whole test suite) from
# Debian's packages, then configures and builds with Meson into $BUILD_DIR (default: build),
# with -Dwerror=true and $MESON_ARGS.
# Usage: scripts/setup.sh [--tests]
set -eu
cd "$(dirname "$0")/.."

BUILD_PACKAGES="meson ninja-build pkg-config g++ gcc python3 libseccomp-dev libcapstone-dev
  libboost-program-options-dev libgtest-dev"
# Tests: static tracee programs, guest kernels under QEMU, the kernel's own selftests.
TEST_PACKAGES="binutils file musl-tools golang-go qemu-system-x86 busybox-static cpio xz-utils
  linux-source-6.1 libc6-dev gcc-multilib"

want="$BUILD_PACKAGES"
[ "${1:-}" = "--tests" ] && want="$want $TEST_PACKAGES"

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

BUILD_DIR="${BUILD_DIR:-build}"
log="$BUILD_DIR.setup.log"
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  # Warnings are errors in the project's own builds (meson.build leaves werror off for
  # distributions, who build with their own flags).
  meson setup "$BUILD_DIR" -Dwerror=true ${MESON_ARGS:-} >"$log" 2>&1 || { cat "$log"; exit 1; }
fi
ninja -C "$BUILD_DIR" >"$log" 2>&1 || { tail -40 "$log"; exit 1; }
echo "setup: built $BUILD_DIR/src/vdsorun"
