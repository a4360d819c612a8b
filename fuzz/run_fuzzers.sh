#!/bin/sh
# Builds the libFuzzer targets (clang-14 from Debian's packages, with ASan and UBSan) and runs
# each for $RUNS executions (default 1,000,000), then prints executions and coverage per
# target. A benchmark-style tool, not part of CI or scripts/test.sh: it takes minutes.
# Usage: fuzz/run_fuzzers.sh [TARGET...]   (targets: read_emulation options elf_symbols auxv)
# Environment: RUNS, BUILD_DIR (default build-fuzz), NICE (default 10).
# A crash or a hang (-timeout=10 s per input) leaves its input as $BUILD_DIR/crash-<target>-*
# (or timeout-...): turn it into a unit test.
set -eu
# The logs hold raw fuzz inputs: byte-wise text tools, whatever the locale.
export LC_ALL=C
cd "$(dirname "$0")/.."

RUNS="${RUNS:-1000000}"
BUILD_DIR="${BUILD_DIR:-build-fuzz}"
NICE="${NICE:-10}"
TARGETS="${*:-read_emulation options elf_symbols auxv}"

missing=""
for p in clang-14 libclang-rt-14-dev pkg-config libcapstone-dev libboost-program-options-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "fuzz: installing:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

CC=clang-14
CXX=clang++-14
# -fno-sanitize-recover: a UBSan finding must stop the run like a crash does.
CXXFLAGS="-std=c++20 -O1 -g -I. $(pkg-config --cflags capstone) -fno-sanitize-recover=all
  -fsanitize=address,undefined"
mkdir -p "$BUILD_DIR/obj"

# Compiles one source (once) with coverage instrumentation and prints its object's path.
obj() {
  o="$BUILD_DIR/obj/$(echo "$1" | tr / _).o"
  if [ ! -f "$o" ] || [ "$1" -nt "$o" ]; then
    nice -n "$NICE" $CXX $CXXFLAGS -fsanitize=fuzzer-no-link -c "$1" -o "$o"
  fi
  echo "$o"
}

sources() {
  case "$1" in
    read_emulation) echo vsyscall/page.cc vsyscall/read_emulation.cc vsyscall/emulation_step.cc \
      vsyscall/read_integer.cc vsyscall/read_string.cc vsyscall/read_vector.cc \
      vsyscall/read_evex.cc vsyscall/evex_decoder.cc vsyscall/x86_alu.cc \
      vsyscall/x86_decoder.cc vsyscall/x86_registers.cc ;;
    options) echo src/options.cc src/time_options.cc emulator/log.cc vsyscall/mode.cc ;;
    elf_symbols) echo emulator/elf_symbols.cc emulator/maps.cc ;;
    auxv) echo emulator/auxv.cc emulator/process_memory.cc emulator/ptrace_ops.cc emulator/log.cc ;;
    *) echo "fuzz: unknown target $1" >&2; exit 2 ;;
  esac
}

# Long enough for every field the target reads (read_emulation: code, registers, vectors).
max_len() {
  case "$1" in
    read_emulation) echo 800 ;;
    elf_symbols) echo 4096 ;;
    *) echo 512 ;;
  esac
}

libs() {
  case "$1" in
    read_emulation) pkg-config --libs capstone ;;
    options) echo -lboost_program_options ;;
    *) echo ;;
  esac
}

# A few valid inputs to start from; the fuzzer mutates them.
seed() {
  d="$BUILD_DIR/corpus/$1"
  mkdir -p "$d"
  case "$1" in
    read_emulation)
      # mov rax,[0xffffffffff600000]; movdqu xmm0,[rsi]; lodsq; vmovdqu ymm1,[rdi]; rep cmpsb
      printf '\110\213\004\045\000\000\140\377\220\220\220\220\220\220\220\000\000\000' >"$d/mov"
      printf '\363\017\157\006\220\220\220\220\220\220\220\220\220\220\220\000\000\000' >"$d/movdqu"
      printf '\110\255\220\220\220\220\220\220\220\220\220\220\220\220\220\000\000\000' >"$d/lodsq"
      printf '\305\376\157\017\220\220\220\220\220\220\220\220\220\220\220\000\000\000' >"$d/vmovdqu"
      printf '\363\246\220\220\220\220\220\220\220\220\220\220\220\220\220\000\000\000' >"$d/cmpsb" ;;
    options)
      printf '\000--vsyscall=none\000-q\000prog\000arg' >"$d/none"
      printf 'debug\000-vv\000-o\000r.json\000--\000-x' >"$d/report"
      printf '\000--vdso\000host\000--log-level=trace\000p' >"$d/vdso" ;;
    elf_symbols)
      # A 2 KiB shared object with PT_LOADs, .symtab and .dynsym (/bin/true is 35 KiB: slow).
      printf 'int alpha(int x){return x+1;}\nint beta(int x){return alpha(x)*2;}\n' >"$BUILD_DIR/seed.c"
      $CC -O1 -shared -nostdlib -fPIC -Wl,-z,max-page-size=16 -Wl,-z,noseparate-code \
        -Wl,--build-id=none -o "$d/small.so" "$BUILD_DIR/seed.c" ;;
    auxv)
      # argc 1, argv[0], NULL, one env, NULL, AT_SYSINFO_EHDR, AT_PAGESZ, AT_NULL
      printf '\001\0\0\0\0\0\0\0\0\020\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\040\0\0\0\0\0\0\0\0\0\0\0\0\0\0' >"$d/stack"
      printf '\041\0\0\0\0\0\0\0\0\0\0\0\0\177\0\0\006\0\0\0\0\0\0\0\0\020\0\0\0\0\0\0' >>"$d/stack"
      printf '\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0' >>"$d/stack" ;;
  esac
  echo "$d"
}

summary=""
status=0
for t in $TARGETS; do
  objs=""
  for s in $(sources "$t"); do objs="$objs $(obj "$s")"; done
  bin="$BUILD_DIR/${t}_fuzzer"
  src_obj="$(obj "fuzz/${t}_fuzzer.cc")"
  nice -n "$NICE" $CXX $CXXFLAGS -fsanitize=fuzzer $src_obj $objs $(libs "$t") -o "$bin"
  corpus="$(seed "$t")"
  log="$BUILD_DIR/$t.log"
  echo "fuzz: $t: $RUNS runs (log: $log)"
  if nice -n "$NICE" "$bin" -runs="$RUNS" -timeout=10 -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$BUILD_DIR/crash-$t-" \
      "$corpus" >"$log" 2>&1; then
    result="ok"
  else
    result="FAILED (see $log)"
    status=1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  secs=$(sed -n 's/.*Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  summary="$summary$(printf '%-16s execs %-9s cov %-6s ft %-6s secs %-5s %s' "$t" "${execs:-?}" \
    "${cov:-?}" "${ft:-?}" "${secs:-?}" "$result")
"
done
printf '\n%s' "$summary"
exit $status
