#!/usr/bin/env python3
# bench/hot_site.py: what one hot legacy call site costs with call-site patching.
"""One legacy call site (`mov $0xffffffffff600000,%rax; call *%rax`, bench/hot_site.c) in a
loop, measured in one run, interleaved, medians of REPS runs:

  vdso       libc's gettimeofday natively: the host kernel's vDSO (the anchor)
  kernel     the legacy site natively: the host kernel's own vsyscall emulation
  patched    the legacy site under vdsorun (--patch=auto): after its first stop it calls the
             injected vDSO through the trampoline
  stopped    the same under --patch=off: every call is a ptrace stop (fewer calls)
  threads    patched, while a second thread exists (the counter's increment is locked)

Also the first call's cost under vdsorun, with patching (the stop plus the patch: the
trampoline mapped, the site rewritten) and without.

Goal (issue "Hot legacy call sites"): patched <= 1.5 x vdso. Prints the clocksource beside the
ratios; nothing is asserted.
"""

import argparse
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine import clocksource  # noqa: E402




def figures(cmd):
  out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
  f = dict(w.split('=', 1) for w in out.split() if '=' in w)
  if 'ns_per_call' not in f:
    raise RuntimeError('no ns_per_call in %r' % out)
  return float(f['ns_per_call']), float(f['first_call_ns'])


def main():
  ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument('--vdsorun', default=os.environ.get('VDSORUN', 'build/src/vdsorun'))
  ap.add_argument('--program', default='build/bench/bench_hot_site')
  ap.add_argument('--reps', type=int, default=7)
  ap.add_argument('--calls', type=int, default=3000000)
  a = ap.parse_args()
  calls, slow_calls = str(a.calls), str(max(a.calls // 1000, 2000))
  cases = {
      'vdso': [a.program, 'vdso', calls],
      'kernel': [a.program, 'legacy', calls],
      'patched': [a.vdsorun, '-q', a.program, 'legacy', calls],
      'stopped': [a.vdsorun, '-q', '--patch=off', a.program, 'legacy', slow_calls],
      'threads': [a.vdsorun, '-q', a.program, 'legacy-threaded', calls],
  }
  samples = {k: [] for k in cases}
  first = {k: [] for k in cases}
  for _ in range(a.reps):
    for k, cmd in cases.items():
      per_call, first_call = figures(cmd)
      samples[k].append(per_call)
      first[k].append(first_call)
  med = {k: statistics.median(v) for k, v in samples.items()}
  first_med = {k: statistics.median(v) for k, v in first.items()}
  print('hot legacy call site, ns per call (median of %d, clocksource=%s, load %.2f):' %
        (a.reps, clocksource(), os.getloadavg()[0]))
  for k in cases:
    print('  %-8s %10.1f   %6.2fx vdso' % (k, med[k], med[k] / med['vdso']))
  print('first call under vdsorun: %.0f us with patching, %.0f us without (%.2fx)' %
        (first_med['patched'] / 1e3, first_med['stopped'] / 1e3,
         first_med['patched'] / first_med['stopped']))
  print('patched/vdso = %.2f (goal <= 1.5), patched/kernel emulation = %.3f, '
        'stopped/patched = %.0f, clocksource=%s' %
        (med['patched'] / med['vdso'], med['patched'] / med['kernel'],
         med['stopped'] / med['patched'], clocksource()))


if __name__ == '__main__':
  sys.exit(main())
