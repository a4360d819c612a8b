#!/usr/bin/env python3
# bench/run_benchmarks.py: runs the bench programs natively and under vdsorun, interleaved,
# and prints medians, the vdsorun/native ratio and DESIGN.md section 7's anchors.
"""Compare programs run natively with the same programs run under vdsorun.

  (a) one legacy vsyscall (gettimeofday entry): the host kernel's own emulation vs a vdsorun
      seccomp stop, with vdsorun and its tracee free to use any CPU, all pinned to one CPU,
      and split (vdsorun on one CPU, the tracee pinning itself to another);
  (b) wall time of `vdsorun -q /bin/true` vs `/bin/true` (fork+exec+wait);
  (c) a million untraced syscalls (getppid), which vdsorun's filter lets through: ~1.0;
  (d) a shell loop of 500 fork+exec of /bin/true;
  (e) a million raw time, gettimeofday and getcpu syscalls each (syscall(2), not the vDSO):
      the filter traces those numbers only from the vsyscall page, so the target is <= 1.05.

--startup runs only (b) and (d) and ends with one line: both ratios and the clocksource
(`ninja -C build bench-startup`).

Native and vdsorun runs alternate, every figure is a median, nothing is asserted: shared
2-core machines are noisy, so read the ratios, not the last digit.

The vdsorun binary: --vdsorun PATH, else $VDSORUN, else build/src/vdsorun. The bench
programs: --bench-dir DIR, else $VDSORUN_BENCH_DIR, else the bench/ folder of the build
directory that holds that vdsorun.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine import clocksource  # noqa: E402
import time

SHELL_LOOP_COUNT = 500
TIME_SYSCALLS = ('time', 'gettimeofday', 'getcpu')
TIME_SYSCALL_TARGET = 1.05
SHELL_LOOP = ('i=0; while [ $i -lt %d ]; do /bin/true; i=$((i+1)); done' % SHELL_LOOP_COUNT)

# DESIGN.md section 7, measured on this kind of machine (2 vCPUs); ns per call.
ANCHOR_KERNEL_VSYSCALL = '430-480 ns'
ANCHOR_STOP_ONE_CPU = '~13,500 ns'
ANCHOR_STOP_TWO_CPUS = '~65,000 ns'


class BenchError(Exception):
  pass


def log(msg):
  print(msg, file=sys.stderr, flush=True)


def fmt_ns(ns):
  if ns is None:
    return '-'
  if ns < 10_000:
    return '%.0f ns' % ns
  if ns < 10_000_000:
    return '%.1f us' % (ns / 1e3)
  if ns < 10_000_000_000:
    return '%.1f ms' % (ns / 1e6)
  return '%.2f s' % (ns / 1e9)


def fmt_ratio(r):
  if r is None:
    return '-'
  return '%.2fx' % r if r < 100 else '%.0fx' % r


def run_checked(cmd, what):
  """Runs cmd, returns its stdout; raises BenchError with its stderr if it fails."""
  proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  if proc.returncode != 0:
    raise BenchError('%s failed (exit %d): %s\n%s' %
                     (what, proc.returncode, ' '.join(cmd), proc.stderr.strip()))
  return proc.stdout


def ns_per_call(cmd, what):
  """Runs a loop program, returns the ns_per_call it printed."""
  out = run_checked(cmd, what)
  for field in out.split():
    if field.startswith('ns_per_call='):
      return float(field.split('=', 1)[1])
  raise BenchError('%s printed no ns_per_call: %r' % (what, out))


def spawn_times(timer, rounds, commands, what):
  """Runs bench_spawn_timer over `commands` (alternating); returns one list of ns each."""
  argv = [timer, str(rounds)]
  for i, cmd in enumerate(commands):
    if i:
      argv.append('::')
    argv.extend(cmd)
  proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  times = [[] for _ in commands]
  bad = []
  for line in proc.stdout.splitlines():
    index, ns, code = (int(x) for x in line.split())
    times[index].append(ns)
    if code != 0:
      bad.append((index, code))
  if proc.returncode != 0 or bad or any(len(t) != rounds for t in times):
    raise BenchError('%s: a timed command failed %s (timer exit %d)\n%s' %
                     (what, bad[:3], proc.returncode, proc.stderr.strip()))
  return times


class Row:
  """One line of the table: native and vdsorun samples of the same measurement."""

  def __init__(self, key, name, unit, anchor):
    self.key, self.name, self.unit, self.anchor = key, name, unit, anchor
    self.native, self.vdsorun = [], []

  def median(self, samples):
    return statistics.median(samples) if samples else None

  def ratio(self):
    n, v = self.median(self.native), self.median(self.vdsorun)
    return v / n if n and v is not None else None

  def as_json(self):
    return {
        'name': self.name, 'unit': self.unit, 'anchor': self.anchor,
        'native_ns': self.native, 'vdsorun_ns': self.vdsorun,
        'native_median_ns': self.median(self.native),
        'vdsorun_median_ns': self.median(self.vdsorun), 'ratio': self.ratio(),
    }


class Bench:

  def __init__(self, args):
    self.args = args
    self.vdsorun = [args.vdsorun, '-q', '--vsyscall=' + args.mode] + args.vdsorun_arg
    d = args.bench_dir
    self.vsyscall_loop = os.path.join(d, 'bench_vsyscall_loop')
    self.syscall_loop = os.path.join(d, 'bench_syscall_loop')
    self.spawn_timer = os.path.join(d, 'bench_spawn_timer')
    self.time_syscall_loop = os.path.join(d, 'bench_time_syscall_loop')
    taskset = shutil.which('taskset')
    if not taskset:
      raise BenchError('taskset (util-linux) is needed for the pinned runs')
    self.pin = [taskset, '-c', str(args.pin_cpu)]
    allowed = sorted(os.sched_getaffinity(0))
    if args.pin_cpu not in allowed:
      raise BenchError('--pin-cpu %d is not among the CPUs we may use: %s' %
                       (args.pin_cpu, allowed))
    others = [c for c in allowed if c != args.pin_cpu]
    self.other_cpu = others[0] if others else None
    self.rows = []

  def check(self):
    for path in (self.args.vdsorun, self.vsyscall_loop, self.syscall_loop, self.spawn_timer,
                 self.time_syscall_loop):
      if not os.access(path, os.X_OK):
        raise BenchError('not an executable: %s (build first: ninja -C build)' % path)
    # Also warms the page cache, so no timed run pays for the first load.
    run_checked(self.vdsorun + ['/bin/true'], 'vdsorun -q /bin/true')
    ns_per_call([self.vsyscall_loop, '1000'], 'native vsyscall loop')
    ns_per_call(self.vdsorun + [self.vsyscall_loop, '100'], 'vsyscall loop under vdsorun')
    ns_per_call(self.vdsorun + [self.syscall_loop, '1000'], 'syscall loop under vdsorun')

  def vsyscall_call(self):
    a = self.args
    free = Row('vsyscall_free', '(a) vsyscall gettimeofday, not pinned', 'ns/call',
               '%s / either' % ANCHOR_KERNEL_VSYSCALL)
    pinned = Row('vsyscall_pinned', '(a) same, all on CPU %d' % a.pin_cpu, 'ns/call',
                 '%s / %s' % (ANCHOR_KERNEL_VSYSCALL, ANCHOR_STOP_ONE_CPU))
    native_cmd = [self.vsyscall_loop, str(a.native_calls)]
    traced_cmd = self.vdsorun + [self.vsyscall_loop, str(a.traced_calls)]
    runs = [
        (free.native, native_cmd),
        (free.vdsorun, traced_cmd),
        (pinned.native, self.pin + native_cmd),
        (pinned.vdsorun, self.pin + traced_cmd),
    ]
    rows = [free, pinned]
    if self.other_cpu is not None:
      split = Row('vsyscall_split', '(a) same, vdsorun CPU %d, tracee CPU %d' %
                  (a.pin_cpu, self.other_cpu), 'ns/call',
                  '%s / %s' % (ANCHOR_KERNEL_VSYSCALL, ANCHOR_STOP_TWO_CPUS))
      # Fewer calls: a stop across CPUs costs 5-30 times one on a single CPU.
      split_cmd = self.vdsorun + [self.vsyscall_loop, str(a.split_calls)]
      runs += [
          (split.native, self.pin + native_cmd + [str(self.other_cpu)]),
          (split.vdsorun, self.pin + split_cmd + [str(self.other_cpu)]),
      ]
      rows.append(split)
    else:
      log('  (a) only one usable CPU: no split run')
    for rep in range(a.reps):
      log('  (a) vsyscall loop, repetition %d/%d' % (rep + 1, a.reps))
      for k in range(len(runs)):
        samples, cmd = runs[(rep + k) % len(runs)]  # rotate the order each repetition
        samples.append(ns_per_call(cmd, '(a) ' + ' '.join(cmd)))
    self.rows += rows

  def true_wall(self):
    a = self.args
    row = Row('true_wall', '(b) /bin/true, fork+exec+wait wall', 'ns/run', '-')
    log('  (b) /bin/true x %d, each way' % a.spawn_rounds)
    row.native, row.vdsorun = spawn_times(self.spawn_timer, a.spawn_rounds,
                                          [['/bin/true'], self.vdsorun + ['/bin/true']],
                                          '(b) /bin/true')
    self.rows.append(row)

  def plain_syscalls(self):
    a = self.args
    row = Row('getppid', '(c) getppid syscall (untraced), per call', 'ns/call', 'ratio ~1.0')
    native_cmd = [self.syscall_loop, str(a.syscalls)]
    traced_cmd = self.vdsorun + native_cmd
    for rep in range(a.reps):
      log('  (c) getppid loop, repetition %d/%d' % (rep + 1, a.reps))
      order = [(row.native, native_cmd), (row.vdsorun, traced_cmd)]
      for samples, cmd in (order if rep % 2 == 0 else order[::-1]):
        samples.append(ns_per_call(cmd, '(c) ' + ' '.join(cmd)))
    self.rows.append(row)

  def shell_loop(self):
    a = self.args
    row = Row('shell_loop', '(d) sh loop, %d x fork+exec /bin/true' % SHELL_LOOP_COUNT,
              'ns/run', '-')
    log('  (d) shell loop x %d, each way' % a.shell_reps)
    sh = ['/bin/sh', '-c', SHELL_LOOP]
    row.native, row.vdsorun = spawn_times(self.spawn_timer, a.shell_reps,
                                          [sh, self.vdsorun + sh], '(d) shell loop')
    self.rows.append(row)

  def time_syscalls(self):
    a = self.args
    rows = []
    for name in TIME_SYSCALLS:
      row = Row('raw_' + name, '(e) raw %s syscall, per call' % name, 'ns/call',
                'target ratio <= %.2f' % TIME_SYSCALL_TARGET)
      native_cmd = [self.time_syscall_loop, name, str(a.syscalls)]
      traced_cmd = self.vdsorun + native_cmd
      rows.append((row, native_cmd, traced_cmd))
    for rep in range(a.reps):
      log('  (e) raw time syscalls, repetition %d/%d' % (rep + 1, a.reps))
      for row, native_cmd, traced_cmd in rows:
        order = [(row.native, native_cmd), (row.vdsorun, traced_cmd)]
        for samples, cmd in (order if rep % 2 == 0 else order[::-1]):
          samples.append(ns_per_call(cmd, '(e) ' + ' '.join(cmd)))
    self.rows += [row for row, _, _ in rows]

  def run(self):
    steps = {'a': self.vsyscall_call, 'b': self.true_wall, 'c': self.plain_syscalls,
             'd': self.shell_loop, 'e': self.time_syscalls}
    for key in self.args.only:
      steps[key]()


def host_vsyscall_mode():
  with open('/proc/self/maps') as f:
    for line in f:
      if line.rstrip().endswith('[vsyscall]'):
        perms = line.split()[1]
        return 'emulate' if perms.startswith('r') else 'xonly'
  return 'none'




def print_report(bench, elapsed):
  a = bench.args
  try:
    version = run_checked([a.vdsorun, '--version'], 'vdsorun --version').strip()
  except BenchError:
    version = '?'
  print()
  print('vdsorun benchmarks: %s (%s), --vsyscall=%s %s' %
        (a.vdsorun, version, a.mode, ' '.join(a.vdsorun_arg)))
  print('host: Linux %s, %d CPUs, clocksource=%s, vsyscall=%s, load average %.2f at the end '
        '(noise)' % (os.uname().release, os.cpu_count(), clocksource(), host_vsyscall_mode(),
                     os.getloadavg()[0]))
  print('medians of %s; ratio = vdsorun/native' %
        ', '.join(what for what, keys in (('%d repetitions' % a.reps, 'ace'),
                                          ('%d runs of (b)' % a.spawn_rounds, 'b'),
                                          ('%d of (d)' % a.shell_reps, 'd'))
                  if set(keys) & set(a.only)))
  print()
  header = ('benchmark', 'native', 'vdsorun', 'ratio', 'DESIGN 7 anchor (native / vdsorun)')
  lines = [header]
  for r in bench.rows:
    lines.append((r.name, fmt_ns(r.median(r.native)), fmt_ns(r.median(r.vdsorun)),
                  fmt_ratio(r.ratio()), r.anchor))
  widths = [max(len(line[i]) for line in lines) for i in range(4)]
  for i, line in enumerate(lines):
    print('  '.join([line[0].ljust(widths[0])] +
                    [line[c].rjust(widths[c]) for c in (1, 2, 3)] + [line[4]]))
    if i == 0:
      print('  '.join('-' * w for w in widths + [len(header[4])]))

  rows = {r.key: r for r in bench.rows}
  print()
  if 'vsyscall_free' in rows:
    def stop(key):
      return rows[key].median(rows[key].vdsorun) if key in rows else None
    free, pinned, split = stop('vsyscall_free'), stop('vsyscall_pinned'), stop('vsyscall_split')
    print('(a) vdsorun stop, not pinned / all on one CPU: %s / %s = %s' %
          (fmt_ns(free), fmt_ns(pinned), fmt_ratio(free / pinned)))
    if split is not None:
      print('    tracer and tracee on different CPUs / one CPU: %s / %s = %s '
            '(DESIGN 7: ~65,000 / ~13,500 = ~4.8x)' %
            (fmt_ns(split), fmt_ns(pinned), fmt_ratio(split / pinned)))
    kernel = rows['vsyscall_free'].median(rows['vsyscall_free'].native)
    costs = ', '.join('%.0f %s' % (v / kernel, what)
                      for v, what in ((free, 'not pinned'), (pinned, 'one CPU'),
                                      (split, 'two CPUs')) if v is not None)
    print('    one stop costs as much as this many kernel emulations: %s (DESIGN 7: 30-150)'
          % costs)
  if 'true_wall' in rows:
    r = rows['true_wall']
    print('(b) vdsorun start-up and exit add %s to a /bin/true run'
          % fmt_ns(r.median(r.vdsorun) - r.median(r.native)))
  if 'true_wall' in rows or 'shell_loop' in rows:
    def ratio(key):
      return fmt_ratio(rows[key].ratio()) if key in rows else '-'
    print('start-up: vdsorun -q /bin/true / /bin/true = %s (issue 7 goal <= 1.5x), '
          '%d x fork+exec shell loop = %s (goal <= 1.3x), clocksource=%s' %
          (ratio('true_wall'), SHELL_LOOP_COUNT, ratio('shell_loop'), clocksource()))
  if 'shell_loop' in rows:
    r = rows['shell_loop']
    added = (r.median(r.vdsorun) - r.median(r.native)) / SHELL_LOOP_COUNT
    print('(d) each traced fork+exec adds %s%s' %
          (fmt_ns(abs(added)) if added >= 0 else '-' + fmt_ns(-added),
           '' if added >= 0 else ' (none measurable: native was slower)'))
  raw = [rows['raw_' + n] for n in TIME_SYSCALLS if 'raw_' + n in rows]
  if raw:
    worst = max(r.ratio() for r in raw)
    print('(e) raw time syscalls under vdsorun / native: %s (worst %s, target <= %.2f: %s)' %
          (', '.join('%s %s' % (n, fmt_ratio(r.ratio())) for n, r in zip(TIME_SYSCALLS, raw)),
           fmt_ratio(worst), TIME_SYSCALL_TARGET,
           'met' if worst <= TIME_SYSCALL_TARGET else 'NOT met'))
  print()
  print('spread (min-max of all samples):')
  for r in bench.rows:
    print('  %-*s native %s-%s (n=%d)   vdsorun %s-%s (n=%d)' %
          (widths[0], r.name, fmt_ns(min(r.native)), fmt_ns(max(r.native)), len(r.native),
           fmt_ns(min(r.vdsorun)), fmt_ns(max(r.vdsorun)), len(r.vdsorun)))
  print('total time %.0f s' % elapsed)


def default_vdsorun():
  if os.environ.get('VDSORUN'):
    return os.environ['VDSORUN']
  here = os.path.dirname(os.path.abspath(__file__))
  return os.path.join(os.path.dirname(here), 'build', 'src', 'vdsorun')


def default_bench_dir(vdsorun):
  """The bench/ folder of vdsorun's build directory, else of build/ next to this script.

  The second lets a vdsorun built elsewhere (another branch, a static build without the
  bench programs) be measured with the programs built here."""
  here = os.path.dirname(os.path.abspath(__file__))
  candidates = [
      os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(vdsorun))), 'bench'),
      os.path.join(os.path.dirname(here), 'build', 'bench'),
  ]
  for d in candidates:
    if os.access(os.path.join(d, 'bench_vsyscall_loop'), os.X_OK):
      return d
  return candidates[0]


def parse_args(argv):
  p = argparse.ArgumentParser(description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--vdsorun', default=default_vdsorun(),
                 help='vdsorun binary to measure (default: $VDSORUN or build/src/vdsorun)')
  p.add_argument('--bench-dir', default=os.environ.get('VDSORUN_BENCH_DIR'),
                 help='folder with the built bench programs (default: $VDSORUN_BENCH_DIR, '
                 'else ../bench next to the vdsorun binary)')
  p.add_argument('--mode', default='emulate', choices=['none', 'xonly', 'emulate', 'native'],
                 help='--vsyscall mode for vdsorun (default emulate)')
  p.add_argument('--vdsorun-arg', action='append', default=[],
                 help='extra option for vdsorun, e.g. --vdsorun-arg=--vdso=host (repeatable)')
  p.add_argument('--only', default='abcde', help='which benchmarks, e.g. "ac" (default abcde)')
  p.add_argument('--reps', type=int, default=7, help='repetitions of (a) and (c) (default 7)')
  p.add_argument('--native-calls', type=int, default=1_000_000,
                 help='vsyscalls per native run of (a) (default 1000000)')
  p.add_argument('--traced-calls', type=int, default=20_000,
                 help='vsyscalls per vdsorun run of (a), each a ptrace stop (default 20000)')
  p.add_argument('--split-calls', type=int, default=4_000,
                 help='vsyscalls per vdsorun run of (a) split across two CPUs (default 4000)')
  p.add_argument('--syscalls', type=int, default=1_000_000,
                 help='syscalls per run of (c) and (e) (default 1000000)')
  p.add_argument('--spawn-rounds', type=int, default=30, help='runs of (b) each way (default 30)')
  p.add_argument('--shell-reps', type=int, default=5, help='runs of (d) each way (default 5)')
  p.add_argument('--pin-cpu', type=int, default=0, help='CPU for the pinned runs (default 0)')
  p.add_argument('--startup', action='store_true',
                 help='only the start-up figures: (b) and (d), i.e. --only bd')
  p.add_argument('--quick', action='store_true',
                 help='a fast smoke run: 3 repetitions, fewer calls')
  p.add_argument('--json', metavar='FILE', help='also write every sample as JSON to FILE')
  args = p.parse_args(argv)
  if args.quick:
    args.reps, args.spawn_rounds, args.shell_reps = 3, 10, 3
    args.native_calls, args.traced_calls, args.syscalls = 200_000, 5_000, 200_000
    args.split_calls = 1_000
  if args.startup:
    args.only = 'bd'
  if args.bench_dir is None:
    args.bench_dir = default_bench_dir(args.vdsorun)
  if not args.only or set(args.only) - set('abcde'):
    p.error('--only takes letters from "abcde"')
  if min(args.reps, args.native_calls, args.traced_calls, args.split_calls, args.syscalls,
         args.spawn_rounds, args.shell_reps) <= 0:
    p.error('counts must be positive')
  return args


def main(argv):
  args = parse_args(argv)
  sys.stdout.reconfigure(line_buffering=True)  # keep the table after stderr's progress lines
  start = time.monotonic()
  try:
    bench = Bench(args)
    log('vdsorun benchmarks: checking %s and %s' % (args.vdsorun, args.bench_dir))
    bench.check()
    bench.run()
  except BenchError as e:
    print('run_benchmarks: %s' % e, file=sys.stderr)
    return 1
  print_report(bench, time.monotonic() - start)
  if args.json:
    with open(args.json, 'w') as f:
      json.dump({'vdsorun': args.vdsorun, 'mode': args.mode, 'extra': args.vdsorun_arg,
                 'rows': {r.key: r.as_json() for r in bench.rows}}, f, indent=1)
  return 0


if __name__ == '__main__':
  sys.exit(main(sys.argv[1:]))
