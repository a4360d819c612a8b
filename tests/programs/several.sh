#!/bin/sh
# A /bin/sh script that runs several tracee programs in a row (forks and execs under one
# shell): each step prints `STEP <name> status=<exit status as the shell sees it>`; the
# script prints `OK script` and exits 0 when every step exited 0, else `SCRIPT_FAIL` and 1.
#   several.sh [static|dynamic]   (which linkage of the programs to run; default dynamic)
dir=$(dirname "$0")
suffix=
if [ "${1:-dynamic}" = static ]; then suffix=_static; fi
failed=0
step() {
  name=$1
  shift
  "$dir/$name$suffix" "$@" >/dev/null 2>&1
  status=$?
  echo "STEP $name status=$status"
  if [ "$status" -ne 0 ]; then failed=1; fi
}
step call_entries gettimeofday
step glibc_sequences time_tailcall
step preserve_regs getcpu
step exec_chain 1 0
step threads 2 50
# A pipeline: both sides are forked by the shell.
n=$("$dir/call_entries$suffix" null | wc -l)
echo "STEP pipeline lines=$n"
if [ "$n" -ne 1 ]; then failed=1; fi
if [ "$failed" -eq 0 ]; then
  echo "OK script"
  exit 0
fi
echo "SCRIPT_FAIL"
exit 1
