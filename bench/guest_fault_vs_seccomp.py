#!/usr/bin/env python3
# bench/guest_fault_vs_seccomp.py: the cost of one vsyscall emulated by vdsorun through its
# fault path (a vsyscall=none guest: the call faults, vdsorun gets the SIGSEGV stop) against
# the same call through the seccomp path (a vsyscall=xonly guest: the kernel's emulation
# consults seccomp, vdsorun gets the seccomp stop). Both guests boot the same kernel and the
# same initramfs in one run, side by side, and run
# `vdsorun --vsyscall=xonly -- bench_vsyscall_loop N` several times; the script prints only the ratio fault-path / seccomp-path of the median
# ns per call. Absolute numbers under TCG mean little; the ratio says what the fault path
# costs relative to the seccomp path on the same emulated CPU. It is noisy when other work
# loads the machine (observed 0.8-3.5 at load average 5-8 on 2 CPUs): repeat it.
import argparse
import os
import pathlib
import re
import statistics
import sys
import threading

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "guest"))

import guest_jobs  # noqa: E402
import guest_machine  # noqa: E402
import initramfs  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache-dir", required=True, help="the guest test's download cache")
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--vdsorun", required=True)
    parser.add_argument("--loop", required=True, help="bench_vsyscall_loop (static)")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()

    work = pathlib.Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    try:
        qemu = guest_machine.ensure_qemu()
        kernel = guest_machine.fetch_kernel(args.cache_dir)
        busybox = guest_machine.fetch_busybox(args.cache_dir)
    except guest_machine.GuestError as e:
        print(f"guest bench: {e}", file=sys.stderr)
        return 1

    payload = guest_jobs.Payload()
    payload.add("vdsorun", "/bin/vdsorun", os.path.abspath(args.vdsorun))
    payload.add("loop", "/bin/bench_vsyscall_loop", os.path.abspath(args.loop))
    jobs = [guest_jobs.Job("warmup", ["@vdsorun", "-q", "--vsyscall=xonly", "--", "@loop", "100"],
                           args.timeout)]
    jobs += [guest_jobs.Job(f"run{i}", ["@vdsorun", "-q", "--vsyscall=xonly", "--", "@loop",
                                        str(args.calls)], args.timeout)
             for i in range(args.repeats)]

    image = initramfs.Initramfs()
    image.add_host_file("/bin/busybox", busybox, 0o755)
    image.add_bytes("/init", (HERE.parent / "tests" / "guest" / "guest_init.sh").read_bytes(), 0o755)
    image.add_bytes("/plan.sh", guest_jobs.plan_script(jobs, payload).encode(), 0o644)
    for d in ("/dev", "/proc", "/sys", "/tmp", "/usr/bin"):
        image.add_dir(d)
    image.add_char_device("/dev/console", 5, 1)
    for _key, (guest_path, host_path) in sorted(payload.files.items()):
        image.add_program(guest_path, host_path)
    initrd = image.write(work / "bench-initramfs.cpio.gz")

    # Both guests run at the same time, one host CPU each, so that whatever else loads this
    # machine slows both alike; the ratio is what is left.
    boots = {}

    def run(mode):
        boots[mode] = guest_machine.boot(qemu, kernel.image(False), initrd, mode, work,
                                         args.timeout * (args.repeats + 1), cpus=1)

    threads = [threading.Thread(target=run, args=(mode,)) for mode in ("none", "xonly")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    medians = {}
    for mode in ("none", "xonly"):
        boot = boots.get(mode)
        if boot is None:
            print(f"guest bench: the vsyscall={mode} guest did not run", file=sys.stderr)
            return 1
        parsed = guest_jobs.parse_results(boot.results)
        values = []
        for job in jobs[1:]:
            result = parsed.results.get(job.id)
            m = re.search(r"ns_per_call=([\d.]+)", result.stdout) if result else None
            if not result or not result.finished or result.rc != 0 or not m:
                detail = "guest timed out" if boot.timed_out else (
                    f"exit {result.rc}: {result.stderr.strip()}" if result else "no output")
                print(f"guest bench: {job.id} in the vsyscall={mode} guest failed: {detail}",
                      file=sys.stderr)
                return 1
            values.append(float(m.group(1)))
        medians[mode] = statistics.median(values)
    print(f"{medians['none'] / medians['xonly']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
