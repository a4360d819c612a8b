#!/usr/bin/env python3
# bench/vsyscall_fairness.py: the worst-case wait of one vsyscall among many threads, natively
# and under vdsorun (issue 10, defect 6). Not a test: nothing is asserted.
"""Run bench_vsyscall_latency (THREADS threads x CALLS vsyscalls, every call timed) natively
and under `vdsorun -q`, alternating, RUNS times each, and print per run the slowest single
call, the 99.9th percentile, the median and the calls slower than 2 s, with the machine's
clocksource beside them.

usage: vsyscall_fairness.py [--vdsorun PATH] [--program PATH] [--threads N] [--calls N]
                            [--runs N]
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine import clocksource  # noqa: E402




def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        return 'failed (%d): %s' % (p.returncode, p.stderr.strip()[-200:])
    return p.stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--vdsorun', default=os.environ.get('VDSORUN', 'build/src/vdsorun'))
    ap.add_argument('--program', default='build/bench/bench_vsyscall_latency')
    ap.add_argument('--threads', type=int, default=1000)
    ap.add_argument('--calls', type=int, default=200)
    ap.add_argument('--runs', type=int, default=3)
    args = ap.parse_args()
    prog = [args.program, str(args.threads), str(args.calls)]
    print('clocksource=%s cpus=%d %d threads x %d vsyscalls' %
          (clocksource(), os.cpu_count() or 0, args.threads, args.calls))
    for i in range(args.runs):
        print('native  run %d: %s' % (i + 1, run(prog)), flush=True)
        print('vdsorun run %d: %s' % (i + 1, run([args.vdsorun, '-q'] + prog)), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
