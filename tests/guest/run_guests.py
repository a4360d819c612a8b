#!/usr/bin/env python3
# tests/guest/run_guests.py: the guest-kernel test. Boots Debian's kernel under QEMU (TCG) with
# vsyscall=none, xonly and emulate; in each guest (and on this host) runs kernel_facts, the
# kernel's test_vsyscall, the tracee programs and the GoogleTest matrix, without vdsorun and
# under every --vsyscall mode; compares each vdsorun run with the ground truth (the same
# program without vdsorun in the guest of that mode) and prints the tables.
import argparse
import os
import pathlib
import shlex
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "selftest"))

import compare  # noqa: E402
import guest_jobs  # noqa: E402
import guest_machine  # noqa: E402
import initramfs  # noqa: E402
import kselftest_vsyscall as kv  # noqa: E402
import report  # noqa: E402

GUEST_MODES = ("none", "xonly", "emulate")
VDSORUN_MODES = ("none", "xonly", "emulate", "native")


def vdsorun_argv(mode, program_argv):
    return ["@vdsorun", "-q", f"--vsyscall={mode}", "--"] + program_argv


def read_cases(path):
    cases = []
    for line in pathlib.Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words = shlex.split(line)
            cases.append((words[0], words[1:]))
    return cases


def program_files(programs_dir):
    """Every program (ELF or script) the programs build directory holds, and the shared
    objects the scan tests read (never run)."""
    files = {}
    for entry in sorted(pathlib.Path(programs_dir).iterdir()):
        if entry.is_file() and os.access(entry, os.X_OK):
            files[entry.name] = entry
    return files


class Plan:
    def __init__(self):
        self.payload = guest_jobs.Payload()
        self.jobs = []
        self.program_runs = []  # (program name, args, job id prefix)
        self.missing_programs = set()  # named in program_cases.txt but not built

    def add(self, job_id, argv, timeout, env=None):
        self.jobs.append(guest_jobs.Job(job_id, argv, timeout, env))


def build_plan(args, selftest_binaries):
    plan = Plan()
    p = plan.payload
    p.add("vdsorun", "/bin/vdsorun", args.vdsorun)
    p.add("kernel_facts", "/bin/kernel_facts", args.kernel_facts)
    t = args.job_timeout

    plan.add("facts/plain", ["@kernel_facts"], t)
    for mode in VDSORUN_MODES:
        plan.add(f"facts/{mode}", vdsorun_argv(mode, ["@kernel_facts"]), t)

    for linkage, binary in sorted(selftest_binaries.items()):
        key = f"test_vsyscall_{linkage}"
        p.add(key, f"/selftest/{key}", binary)
        plan.add(f"{key}/plain", [f"@{key}"], t)
        for mode in VDSORUN_MODES:
            plan.add(f"{key}/{mode}", vdsorun_argv(mode, [f"@{key}"]), t)

    if args.programs_dir:
        files = program_files(args.programs_dir)
        for name, path in files.items():
            p.add(f"prog:{name}", f"/programs/{name}", path)
        for program, prog_args in read_cases(args.program_cases):
            if program.endswith(".sh"):
                names = [program]
            elif args.program_linkage == "both":
                names = [program, program + "_static"]
            else:
                names = [program + "_static"]
            for name in names:
                if name not in files:
                    plan.missing_programs.add(name)
                    continue
                prefix = "prog:" + ",".join([name] + prog_args)
                plan.program_runs.append((name, prog_args, prefix))
                plan.add(f"{prefix}/plain", [f"@prog:{name}"] + prog_args, t)
                for mode in GUEST_MODES:  # no ground truth for native
                    plan.add(f"{prefix}/{mode}", vdsorun_argv(mode, [f"@prog:{name}"] + prog_args), t)

    if args.matrix:
        p.add("matrix", "/bin/vdsorun_matrix", args.matrix)
        p.add_path("programs", "/programs", args.programs_dir or "/nonexistent")
        plan.add("matrix", ["@matrix", f"--gtest_filter={args.matrix_filter}"],
                 args.matrix_timeout,
                 env={"VDSORUN": "@vdsorun", "VDSORUN_PROGRAMS": "@programs"})
    return plan


def build_initramfs(plan, busybox, out_path):
    image = initramfs.Initramfs()
    image.add_host_file("/bin/busybox", busybox, 0o755)
    image.add_bytes("/init", (HERE / "guest_init.sh").read_bytes(), 0o755)
    image.add_bytes("/plan.sh", guest_jobs.plan_script(plan.jobs, plan.payload).encode(), 0o644)
    for d in ("/dev", "/proc", "/sys", "/tmp", "/usr/bin"):
        image.add_dir(d)
    image.add_char_device("/dev/console", 5, 1)
    for key, (guest_path, host_path) in sorted(plan.payload.files.items()):
        if initramfs.is_elf(host_path):
            image.add_program(guest_path, host_path)
        else:
            image.add_host_file(guest_path, host_path, 0o755)
    return image.write(out_path)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache-dir", required=True, help="downloads and extracted files")
    parser.add_argument("--work-dir", required=True, help="initramfs, serial logs, results")
    parser.add_argument("--vdsorun", required=True)
    parser.add_argument("--kernel-facts", required=True)
    parser.add_argument("--programs-dir")
    parser.add_argument("--program-cases", default=str(HERE / "program_cases.txt"))
    parser.add_argument("--matrix", help="the GoogleTest matrix binary (static)")
    # The threads rows make ~80,000 ptrace stops per run: minutes under TCG. The guest runs
    # its own small threads case instead (program_cases.txt). Dynamic rows: as above.
    # What the guests add is the kernel's vsyscall mode, which does not depend on how the
    # tracee was linked; the dynamic builds (and vdsorun's vDSO injection into them) are the
    # integration matrix's business on the host. Under TCG each traced run of a dynamic
    # program costs several times more.
    parser.add_argument("--program-linkage", choices=("static", "both"), default="static",
                        help="which builds of the tracee programs the plan runs")
    parser.add_argument("--matrix-filter", default="-*threads_*:*__dynamic__*",
                        help="--gtest_filter for the matrix inside the guests")
    parser.add_argument("--cc", default="cc", help="C compiler for test_vsyscall")
    parser.add_argument("--modes", default=",".join(GUEST_MODES))
    parser.add_argument("--guest-timeout", type=float,
                        default=float(os.environ.get("VDSORUN_GUEST_TIMEOUT", 420)))
    parser.add_argument("--job-timeout", type=float, default=60)
    parser.add_argument("--matrix-timeout", type=float, default=240)
    # One vCPU: tracer and tracee then share it, which TCG runs several times faster than
    # cross-vCPU ptrace wake-ups, and the guest keeps the TSC clocksource.
    parser.add_argument("--cpus", type=int, default=1)
    parser.add_argument("--memory", default="512M")
    # Paging depth changes what user space sees (TASK_SIZE_MAX moves from 2^47 to 2^56), so
    # one guest boots the slower way that enables 5-level paging.
    parser.add_argument("--five-level-modes", default="xonly",
                        help="guests booted with 5-level paging (comma-separated modes)")
    parser.add_argument("--no-host", action="store_true", help="skip the runs on this host")
    parser.add_argument("--results-md", help="also write the tables as Markdown here")
    args = parser.parse_args()

    for attr in ("vdsorun", "kernel_facts", "programs_dir", "matrix"):
        if getattr(args, attr):
            setattr(args, attr, os.path.abspath(getattr(args, attr)))
    work = pathlib.Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    modes = [m for m in args.modes.split(",") if m]
    if args.matrix and not pathlib.Path(args.matrix).exists():
        print(f"note: matrix binary {args.matrix} not built; the matrix column stays empty")
        args.matrix = None
    if args.programs_dir and not pathlib.Path(args.programs_dir).is_dir():
        print(f"note: programs directory {args.programs_dir} missing; no program runs")
        args.programs_dir = None

    started = time.monotonic()
    try:
        qemu = guest_machine.ensure_qemu()
        kernel = guest_machine.fetch_kernel(args.cache_dir)
        busybox = guest_machine.fetch_busybox(args.cache_dir)
        selftest = kv.build(args.cache_dir, args.cc)
    except (guest_machine.GuestError, kv.BuildError) as e:
        print(f"guest test: {e}")
        return 1
    plan = build_plan(args, selftest)
    initrd = build_initramfs(plan, busybox, work / "initramfs.cpio.gz")
    print(f"kernel: {kernel.package}; initramfs {initrd.stat().st_size // 1024} KiB, "
          f"{len(plan.jobs)} jobs per guest; prepared in {time.monotonic() - started:.1f} s")

    runners = {}  # runner name -> report.Runner
    if not args.no_host:
        t0 = time.monotonic()
        host_results = guest_jobs.run_on_host(plan.jobs, plan.payload)
        with open("/proc/cpuinfo") as cpuinfo:
            la57 = sum(1 for line in cpuinfo if line.startswith("flags") and " la57" in line)
        runners["host"] = report.Runner("host", kv.host_vsyscall_mode(), host_results,
                                        len(os.sched_getaffinity(0)),
                                        seconds=time.monotonic() - t0, problem=None,
                                        boot_uptime=f"la57={la57}")
    for mode in modes:
        try:
            five_level = mode in args.five_level_modes.split(",")
            boot = guest_machine.boot(qemu, kernel.image(five_level), initrd, mode, work,
                                      args.guest_timeout, args.memory, args.cpus)
        except guest_machine.GuestError as e:
            runners[f"guest-{mode}"] = report.Runner(f"guest-{mode}", mode, {}, args.cpus, 0, str(e))
            continue
        parsed = guest_jobs.parse_results(boot.results)
        problem = None
        if boot.timed_out:
            problem = (f"guest timeout after {args.guest_timeout:.0f} s (last job started: "
                       f"{parsed.last_begun or 'none, the guest did not reach /init'})")
        elif not parsed.done:
            tail = boot.console.strip().splitlines()[-3:]
            problem = ("guest stopped before the end of its plan (last job started: "
                       f"{parsed.last_begun}); console: " + " | ".join(tail))
        runners[f"guest-{mode}"] = report.Runner(f"guest-{mode}", mode, parsed.results,
                                                 args.cpus, boot.seconds, problem,
                                                 boot_uptime=parsed.header, done_uptime=parsed.done_uptime)

    rep = report.Report(plan, runners, modes)
    text, markdown, failures = rep.render()
    print(text)
    (work / "guest-results.md").write_text(markdown)
    (work / "guest-details.txt").write_text("\n".join(rep.details + rep.notes) + "\n")
    if args.results_md:
        pathlib.Path(args.results_md).write_text(markdown)
    print(f"total {time.monotonic() - started:.0f} s; Markdown tables in {work / 'guest-results.md'}, "
          f"every difference in {work / 'guest-details.txt'}, serial logs in {work}")
    if failures:
        print(f"\n{len(failures)} failure(s):")
        for f in failures:
            print(f"  - {f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
