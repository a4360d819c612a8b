#!/usr/bin/env python3
# bench/time_control.py: what time control (--time/--offset/--rate/--freeze) costs.
"""Clock reads measured in one run, interleaved, medians of REPS runs:

  host           libc's clock_gettime(REALTIME), clock_gettime(MONOTONIC), gettimeofday natively:
                 the host kernel's vDSO (the anchor)
  inject         the same under vdsorun, no transform: the injected vDSO
  offset         the same under vdsorun --offset=+1d: the injected vDSO with the transform
                 folded into its clocks
  rate           the same under vdsorun --time=2038-01-19T03:13:57Z --rate=2. The program
                 times itself with CLOCK_MONOTONIC, which runs twice as fast for it: its
                 figure is divided by the rate
  raw syscall    clock_gettime(REALTIME) as a raw syscall: natively, and under the transform
                 (a ptrace stop each); beside it getppid, which nothing stops, under the
                 transform

Goal (issue "Time control"): transformed <= 1.1 x host. Prints the clocksource beside the
ratios; nothing is asserted.
"""

import argparse
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine import clocksource  # noqa: E402

TRANSFORMS = (('offset', ['--offset=+1d'], 1.0),
              ('rate', ['--time=2038-01-19T03:13:57Z', '--rate=2'], 2.0))
TRANSFORM = TRANSFORMS[0][1]
READS = ('vdso_realtime', 'vdso_monotonic', 'vdso_gettimeofday')


def ns_per_call(cmd):
  out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
  f = dict(w.split('=', 1) for w in out.split() if '=' in w)
  return float(f['ns_per_call'])


def main():
  ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  ap.add_argument('--vdsorun', required=True)
  ap.add_argument('--program', required=True)
  ap.add_argument('--reps', type=int, default=9)
  ap.add_argument('--calls', type=int, default=3000000)
  ap.add_argument('--syscalls', type=int, default=2000)
  a = ap.parse_args()
  v = [a.vdsorun, '-q']
  runs = {}

  def add(key, cmd):
    runs.setdefault(key, []).append(ns_per_call(cmd))

  for _ in range(a.reps):
    for read in READS:
      add(('host', read), [a.program, read, str(a.calls)])
      add(('inject', read), v + ['--', a.program, read, str(a.calls)])
      for name, opts, rate in TRANSFORMS:
        runs.setdefault((name, read), []).append(
            ns_per_call(v + opts + ['--', a.program, read, str(a.calls)]) / rate)
    add(('host', 'sys_clock_gettime'), [a.program, 'sys_clock_gettime', str(a.calls)])
    add(('transformed', 'sys_clock_gettime'),
        v + TRANSFORM + ['--', a.program, 'sys_clock_gettime', str(a.syscalls)])
    add(('host', 'sys_getppid'), [a.program, 'sys_getppid', str(a.calls)])
    add(('transformed', 'sys_getppid'),
        v + TRANSFORM + ['--', a.program, 'sys_getppid', str(a.calls)])

  med = {k: statistics.median(x) for k, x in runs.items()}
  print('time control: medians of %d runs, clocksource %s' % (a.reps, clocksource()))
  print('%-18s %9s %9s %9s %9s %9s %9s %9s' % ('read', 'host ns', 'inject', 'offset', 'rate',
                                               'inj/host', 'off/host', 'rate/host'))
  for read in READS:
    h, i = med[('host', read)], med[('inject', read)]
    o, r = med[('offset', read)], med[('rate', read)]
    print('%-18s %9.1f %9.1f %9.1f %9.1f %8.2fx %8.2fx %8.2fx'
          % (read, h, i, o, r, i / h, o / h, r / h))
  worst = max(med[(t, r)] / med[('host', r)] for r in READS for t in ('offset', 'rate'))
  print('goal: transformed injected-vDSO reads <= 1.1x the host vDSO: worst %.2fx (%s)'
        % (worst, 'met' if worst <= 1.1 else 'NOT met'))
  hs, ts = med[('host', 'sys_clock_gettime')], med[('transformed', 'sys_clock_gettime')]
  hp, tp = med[('host', 'sys_getppid')], med[('transformed', 'sys_getppid')]
  print('raw clock_gettime syscall: %.0f ns natively, %.0f ns under the transform (a stop, '
        '%.0fx); a plain syscall (getppid) under the transform: %.0f ns (native %.0f ns, %.2fx)'
        % (hs, ts, ts / hs, tp, hp, tp / hp))
  return 0


if __name__ == '__main__':
  sys.exit(main())
