# tests/selftest/kselftest_vsyscall.py: the kernel's own tools/testing/selftests/x86/
# test_vsyscall.c, taken from Debian's linux-source-6.1 package at test time: fetch, build
# (static and dynamic), parse its [OK]/[FAIL] output into subtests, and the expected result of
# every (kernel vsyscall mode, run) cell.
import os
import pathlib
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guest"))
import debpkg  # noqa: E402

SOURCE_PACKAGE = "linux-source-6.1"
SOURCE_TARBALL = "./usr/src/linux-source-6.1.tar.xz"
SELFTESTS = "linux-source-6.1/tools/testing/selftests"
# test_vsyscall.c includes helpers.h; kselftest.h is what later versions include.
SOURCE_FILES = ["x86/test_vsyscall.c", "x86/helpers.h", "kselftest.h"]
# The selftests' own Makefile flags for 64-bit x86 tests.
CFLAGS = ["-O2", "-g", "-std=gnu99", "-pthread", "-Wall"]
LIBS = ["-lrt", "-ldl"]

RUNS = ["plain", "none", "xonly", "emulate", "native"]  # plain: without vdsorun
OK, FAIL, SKIP = "OK", "FAIL", "SKIP"
SIGSEGV_RC = 128 + 11


class BuildError(Exception):
    pass


def fetch_sources(cache_dir):
    """Extracts only the files test_vsyscall needs from the kernel source tarball inside the
    linux-source .deb (downloaded once). Returns the selftests directory."""
    cache_dir = pathlib.Path(cache_dir)
    out_dir = cache_dir / "linux-selftests"
    if all((out_dir / f).exists() for f in SOURCE_FILES):
        return out_dir
    try:
        deb = debpkg.download(SOURCE_PACKAGE, cache_dir)
    except debpkg.FetchError as e:
        raise BuildError(f"download of the kernel source failed: {e}") from e
    tmp = cache_dir / "linux-selftests.part"
    subprocess.run(["rm", "-rf", str(tmp)], check=True)
    tmp.mkdir(parents=True)
    members = [f"{SELFTESTS}/{f}" for f in SOURCE_FILES]
    fsys = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    inner = subprocess.Popen(["tar", "-xO", SOURCE_TARBALL], stdin=fsys.stdout,
                             stdout=subprocess.PIPE)
    fsys.stdout.close()
    untar = subprocess.run(["tar", "-xJ", "-C", str(tmp), "--strip-components=4"] + members,
                           stdin=inner.stdout, stderr=subprocess.PIPE)
    inner.stdout.close()
    inner.wait()
    fsys.wait()
    if untar.returncode != 0 or not all((tmp / f).exists() for f in SOURCE_FILES):
        raise BuildError(f"extracting {', '.join(SOURCE_FILES)} from {deb.name} failed: "
                         + untar.stderr.decode(errors="replace").strip())
    subprocess.run(["rm", "-rf", str(out_dir)], check=True)
    tmp.rename(out_dir)
    return out_dir


def build(cache_dir, cc="cc"):
    """Builds test_vsyscall static and dynamic; returns {"static": path, "dynamic": path}."""
    src_dir = fetch_sources(cache_dir)
    source = src_dir / "x86" / "test_vsyscall.c"
    outputs = {}
    for linkage, flags in (("static", ["-static"]), ("dynamic", ["-no-pie"])):
        out = pathlib.Path(cache_dir) / f"test_vsyscall_{linkage}"
        if not out.exists() or out.stat().st_mtime < source.stat().st_mtime:
            argv = shlex.split(cc) + CFLAGS + flags + ["-o", str(out), str(source)] + LIBS
            proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if proc.returncode != 0:
                raise BuildError(f"building {out.name} failed: `{' '.join(argv)}`:\n"
                                 + proc.stdout.decode(errors="replace"))
        outputs[linkage] = out
    return outputs


# --- parsing ----------------------------------------------------------------------------------

_SECTIONS = {
    "test gettimeofday()": "gtod",
    "test time()": "time",
    "getcpu() on CPU 0": "getcpu0",
    "getcpu() on CPU 1": "getcpu1",
    "Checking read access to the vsyscall page": "read",
    "Make sure that vsyscalls really page fault": "exec",
    "process_vm_readv() from vsyscall page": "process_vm_readv",
    "checking that vsyscalls are emulated": "emulation",
}
_RANK = {OK: 0, SKIP: 1, FAIL: 2}


def _subtest(section, message):
    if section in ("gtod", "time", "getcpu0", "getcpu1"):
        if message.startswith("failed to force CPU"):
            return section
        if "vDSO" in message:
            return section + ".vdso"
        if message.startswith("vsys"):  # "vsyscall ..." and "vsys gettimeofday() failed"
            return section + ".vsyscall"
        return section + ".syscall"
    return section or "maps"  # before the first [RUN]: the /proc/self/maps address check


def parse(stdout):
    """{subtest: OK|FAIL|SKIP} from test_vsyscall's output; several lines of one subtest
    combine to the worst."""
    results = {}
    section = None
    for line in stdout.splitlines():
        if not line.startswith("["):
            continue
        tag, _, message = line.partition("]")
        tag = tag[1:]
        message = message.strip()
        if tag == "RUN":
            section = _SECTIONS.get(message, message)
            continue
        if tag not in _RANK:
            continue  # WARN, NOTE
        name = _subtest(section, message)
        if name not in results or _RANK[tag] > _RANK[results[name]]:
            results[name] = tag
    return results


# --- expectations -----------------------------------------------------------------------------

class Cell:
    """Expected outcome of one run: exit status (as a shell reports it) and every subtest that
    prints a verdict, with the reason for each expected failure."""

    def __init__(self, rc, subtests, why=None, gaps=None):
        self.rc = rc
        self.subtests = subtests
        self.why = why or {}
        # Known vdsorun gaps: subtests where vdsorun is known to differ from a real kernel of
        # the mode. The cell then holds what vdsorun does (so a change either way is noticed),
        # and every run prints the gap with what the real kernel does.
        self.gaps = gaps or {}


def _vdso(cpus):
    # The vDSO half passes everywhere: the kernel's vDSO, or vdsorun's injected one (found by
    # dlopen("linux-vdso.so.1", RTLD_NOLOAD) through AT_SYSINFO_EHDR in both builds).
    d = {"gtod.vdso": OK, "time.vdso": OK, "getcpu0.vdso": OK}
    if cpus > 1:
        d["getcpu1.vdso"] = OK
    else:
        d["getcpu1"] = SKIP
    return d


def _vsyscall(cpus):
    d = {"gtod.vsyscall": OK, "time.vsyscall": OK, "getcpu0.vsyscall": OK}
    if cpus > 1:
        d["getcpu1.vsyscall"] = OK
    return d


# The test decides from /proc/self/maps what the page should do (no line: calls must fault;
# --xp: calls work, reads fault; r-xp: both work). vdsorun cannot change what the host kernel
# writes there, so the line always shows the HOST's mode while the page behaves as the mode
# vdsorun was given. Where the two disagree the test reports FAIL (or dies) although vdsorun
# behaves exactly as a kernel of the requested mode; each such cell says so below.
MAPS = "maps shows the host's mode"

# A real vsyscall=native kernel fails the test's "emulation" subtest: single-stepping the call
# traps on each of the page's instructions (mov, syscall, ret), more than one trap in the page.
# vdsorun's native mode does the same (native_step_entry), so the subtest says FAIL there too.
NATIVE_STEP = ("single-stepping traps on each of the page's mov, syscall and ret, as on a real "
               "native kernel, so the test counts more than one trap in the page")


def expected(host_mode, run, cpus):
    """The Cell for test_vsyscall run `run` (plain = without vdsorun, else vdsorun's
    --vsyscall mode) on a kernel booted with vsyscall=host_mode with `cpus` CPUs."""
    v, s = _vdso(cpus), _vsyscall(cpus)
    crash = Cell(SIGSEGV_RC, {}, {
        "gtod.vsyscall": f"{MAPS} (--x): the test calls the page before it installs its "
                         "SIGSEGV handler, and --vsyscall=none makes the call fault exactly as a "
                         "none kernel would; on a real none kernel the test sees no maps line and "
                         "never calls. Output is lost with the buffered stdout."})
    if host_mode == "none":
        # maps: no [vsyscall] line, so the test only checks that reads and calls fault.
        base = dict(v, read=OK, exec=OK, process_vm_readv=OK)
        if run in ("plain", "none"):
            return Cell(0, base)
        if run == "xonly":
            return Cell(1, dict(base, exec=FAIL), {
                "exec": f"{MAPS} (no line): the test expects the call to fault; "
                        "--vsyscall=xonly correctly emulates it"})
        # emulate, native: reads return the page image and calls are emulated.
        return Cell(1, dict(base, read=FAIL, exec=FAIL), {
            "read": f"{MAPS} (no line): the test expects reads to fault; --vsyscall={run} "
                    "correctly returns the page image",
            "exec": f"{MAPS} (no line): the test expects the call to fault; --vsyscall={run} "
                    "correctly emulates it"})
    if host_mode == "xonly":
        # maps: --xp. The test calls all three entries, expects reads to fault.
        base = dict(v, **s, read=OK, process_vm_readv=OK, emulation=OK)
        if run in ("plain", "xonly"):
            return Cell(0, base)
        if run == "none":
            return crash
        if run == "emulate":
            return Cell(1, dict(base, read=FAIL), {
                "read": f"{MAPS} (--x): the test expects reads to fault; --vsyscall=emulate "
                        "correctly returns the page image"})
        return Cell(1, dict(base, read=FAIL, emulation=FAIL), {
            "read": f"{MAPS} (--x): the test expects reads to fault; --vsyscall=native "
                    "correctly returns the page image",
            "emulation": NATIVE_STEP})
    if host_mode == "emulate":
        # maps: r-xp. process_vm_readv really works (the host kernel answers it).
        base = dict(v, **s, read=OK, process_vm_readv=OK, emulation=OK)
        if run in ("plain", "emulate"):
            return Cell(0, base)
        if run == "none":
            return crash
        if run == "xonly":
            # Host limit (DESIGN 3.3): on an emulate host the page is really readable and
            # reads cannot be made to fault, so the test's read check passes for the wrong
            # reason (a real xonly kernel passes it too, with maps --xp and faulting reads).
            return Cell(0, base)
        return Cell(1, dict(base, emulation=FAIL), {"emulation": NATIVE_STEP})
    raise ValueError(f"no expectations for a vsyscall={host_mode} kernel")


def check(cell, rc, stdout):
    """Compares one run with its Cell; returns a list of human-readable mismatches."""
    problems = []
    if rc != cell.rc:
        problems.append(f"exit status {rc}, expected {cell.rc}")
    observed = parse(stdout)
    for name in sorted(set(observed) | set(cell.subtests)):
        want, got = cell.subtests.get(name, "absent"), observed.get(name, "absent")
        if want != got:
            problems.append(f"{name}: {got}, expected {want}")
    return problems


def summarize(rc, stdout):
    """A short cell text: `ok` or the failed/skipped subtests and the exit status."""
    observed = parse(stdout)
    failed = sorted(n for n, r in observed.items() if r == FAIL)
    if rc >= 128:
        return f"killed by signal {rc - 128}" + (f"; FAIL {', '.join(failed)}" if failed else "")
    if not failed and rc == 0:
        return f"pass ({sum(1 for r in observed.values() if r == OK)} OK)"
    return f"exit {rc}; FAIL {', '.join(failed) or '-'}"


def describe(cell):
    """The expected outcome of a Cell in the words summarize() uses."""
    failed = sorted(n for n, r in cell.subtests.items() if r == FAIL)
    if cell.rc >= 128:
        return f"killed by signal {cell.rc - 128}"
    if cell.rc == 0 and not failed:
        return "pass"
    return f"exit {cell.rc}; FAIL {', '.join(failed) or '-'}"


def host_vsyscall_mode():
    """The mode this kernel was booted with, as /proc/self/maps shows it."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            if line.rstrip().endswith("[vsyscall]"):
                return "emulate" if line.split()[1].startswith("r") else "xonly"
    return "none"
