#!/usr/bin/env python3
# tests/selftest/run_host.py: meson test that builds the kernel's test_vsyscall from Debian's
# linux-source-6.1 and runs it on this host without vdsorun and under every --vsyscall mode,
# asserting the expected subtest results of each cell (kselftest_vsyscall.expected).
import argparse
import os
import subprocess
import sys

import kselftest_vsyscall as kv


def run(argv, timeout):
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        return 128 + 9, out, f"timed out after {timeout} s"
    rc = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
    return rc, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache-dir", required=True, help="build-directory cache for downloads")
    parser.add_argument("--vdsorun", required=True)
    parser.add_argument("--cc", default="cc")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()

    try:
        binaries = kv.build(args.cache_dir, args.cc)
    except kv.BuildError as e:
        print(f"test_vsyscall: {e}")
        return 1

    host_mode = kv.host_vsyscall_mode()
    cpus = len(os.sched_getaffinity(0))
    print(f"host kernel {os.uname().release}, vsyscall={host_mode}, {cpus} CPUs")
    failures = 0
    for linkage, binary in sorted(binaries.items()):
        for run_name in kv.RUNS:
            argv = [str(binary)]
            if run_name != "plain":
                argv = [args.vdsorun, "-q", f"--vsyscall={run_name}", "--"] + argv
            rc, out, err = run(argv, args.timeout)
            cell = kv.expected(host_mode, run_name, cpus)
            problems = kv.check(cell, rc, out)
            label = "without vdsorun" if run_name == "plain" else f"--vsyscall={run_name}"
            verdict = "as expected" if not problems else "UNEXPECTED"
            print(f"{linkage:7} {label:20} {kv.summarize(rc, out):50} {verdict}")
            for name, why in sorted(cell.why.items()):
                print(f"        expected non-pass {name}: {why}")
            for name, why in sorted(cell.gaps.items()):
                print(f"        {name}: {why}")
            if problems:
                failures += 1
                for p in problems:
                    print(f"        mismatch: {p}")
                print("        --- stdout ---\n" + out + "        --- stderr ---\n" + err)
    print(f"{failures} unexpected cell(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
