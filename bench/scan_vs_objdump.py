#!/usr/bin/env python3
# bench/scan_vs_objdump.py: `vdsorun scan TREE` against the obvious alternative,
# `objdump -d FILE | grep ffffffffff600`, on the same ELF files of TREE (default /usr).
#
# vdsorun scan is timed over the whole tree, --runs times after one warm-up run (so both
# sides read from the page cache); the median is printed. objdump disassembles every
# instruction of every file and takes far too long on a whole /usr: it runs on a sample of
# the ELF files vdsorun found (every k-th by path, up to --sample-bytes of them), and its time
# for the whole tree is extrapolated by bytes (sample time x all ELF bytes / sample bytes).
# The output says when it was sampled. It also reports the sample's agreement: files where
# objdump's grep sees a page address and the scan does not, and the other way round.
import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine import clocksource  # noqa: E402
import time




def run_scan(vdsorun, tree, json_out=False):
    cmd = [vdsorun, "scan"] + (["--json"] if json_out else []) + [tree]
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = time.monotonic() - t0
    if p.returncode not in (0, 1, 2):
        sys.exit(f"scan_vs_objdump: {' '.join(cmd)} exited {p.returncode}: {p.stderr[-500:]!r}")
    return elapsed, p.stdout


def objdump_hits(path):
    """Runs objdump -d PATH | grep ffffffffff600; returns whether grep matched."""
    od = subprocess.Popen(["objdump", "-d", path], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL)
    grep = subprocess.run(["grep", "-c", "ffffffffff600"], stdin=od.stdout,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    od.stdout.close()
    od.wait()
    return grep.returncode == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vdsorun", required=True)
    parser.add_argument("--tree", default="/usr")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sample-bytes", type=int, default=200 << 20,
                        help="objdump at most this many bytes of ELF files (0: all of them)")
    args = parser.parse_args()

    _, out = run_scan(args.vdsorun, args.tree, json_out=True)  # also warms the page cache
    doc = json.loads(out)
    files = doc["files"]
    found = {f["path"] for f in files if f["verdict"] != "clean"}
    sizes = {}
    for f in files:
        try:
            sizes[f["path"]] = os.path.getsize(f["path"])
        except OSError:
            pass
    total_bytes = sum(sizes.values())

    times = [run_scan(args.vdsorun, args.tree)[0] for _ in range(args.runs)]
    scan_median = statistics.median(times)

    paths = sorted(sizes)
    sample = paths
    if args.sample_bytes and total_bytes > args.sample_bytes:
        step = max(1, round(total_bytes / args.sample_bytes))
        sample = paths[::step]
    sample_bytes = sum(sizes[p] for p in sample)
    t0 = time.monotonic()
    hits = {p for p in sample if objdump_hits(p)}
    objdump_sample = time.monotonic() - t0
    sampled = len(sample) < len(paths)
    objdump_total = objdump_sample * total_bytes / sample_bytes if sample_bytes else 0.0

    s = doc["summary"]
    print(f"clocksource: {clocksource()}  cpus: {os.cpu_count()}")
    print(f"tree: {args.tree}: {s['files_seen']} files, {s['elf_files']} x86-64 ELF "
          f"({total_bytes / 1e6:.0f} MB); not clean: {len(found)}")
    print(f"vdsorun scan: median {scan_median:.2f} s of {args.runs} runs "
          f"(min {min(times):.2f}, max {max(times):.2f})")
    if sampled:
        print(f"objdump -d | grep: {objdump_sample:.1f} s on a sample of {len(sample)} files "
              f"({sample_bytes / 1e6:.0f} MB, every {len(paths) // max(1, len(sample))}th); "
              f"extrapolated by bytes to the whole tree: {objdump_total:.0f} s (one run)")
    else:
        print(f"objdump -d | grep: {objdump_total:.1f} s on all {len(sample)} files (one run)")
    print(f"ratio objdump / vdsorun scan: {objdump_total / scan_median:.0f}x"
          + (" (objdump extrapolated)" if sampled else ""))
    missed = sorted(hits - found)
    extra = sorted((found & set(sample)) - hits)
    print(f"sample agreement: objdump's grep matched {len(hits)} files; "
          f"{len(missed)} of them the scan calls clean, "
          f"{len(extra)} found by the scan only")
    for p in missed:
        print(f"  objdump only: {p}")
    for p in extra:
        print(f"  scan only: {p}")


if __name__ == "__main__":
    main()
