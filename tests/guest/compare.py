# tests/guest/compare.py: compares runs under `vdsorun --vsyscall=X` with the ground truth (the
# same program run without vdsorun in a guest booted vsyscall=X), knowing which differences
# are limits of running on a host of another mode, and summarises the GoogleTest matrix.
import re

# What vdsorun cannot change, whatever the mode it emulates (DESIGN 3.3, 3.6).
LIMIT_MAPS = "/proc/self/maps shows the host kernel's [vsyscall] line"
LIMIT_PVR = "process_vm_readv is answered by the host kernel from its own page"
LIMIT_READ = "on an emulate host the page is readable and reads cannot be made to fault"
LIMIT_AVX = "no AVX on one side"
LIMIT_STALE = ("the kernel raises its SI_KERNEL SIGSEGVs with force_sig(), leaving err/trapno at "
               "whatever the thread's last fault stored (0 in a fresh process); vdsorun's fault "
               "path cannot leave them untouched")
LIMIT_FAULT_PATH = ("on a vsyscall=none host vdsorun catches every call by its instruction fetch "
                    "fault, so the sigcontext's err/trapno of an SI_KERNEL SIGSEGV the call then "
                    "raises are that fault's (0x15/14), not the thread's stale values; ptrace "
                    "cannot set them (vdsorun writes the kernel's into the frame only for the "
                    "page faults it raises itself)")
LIMIT_SECCOMP = ("the program's own seccomp KILL outranks the SECCOMP_RET_TRAP vdsorun's filter "
                 "returns for a call of the page when emulating none on an xonly/emulate host, so "
                 "the kernel kills the program before vdsorun sees the call")


def facts_lines(text):
    lines = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(": ")
        if sep:
            lines[key] = rest
        elif line.strip():
            lines[line.strip()] = ""
    return lines


def _without_stale(text, every_signal=False):
    """Drops err/trapno (and the program's ifetch bit derived from err) from SI_KERNEL
    SIGSEGV lines (every signal line with every_signal)."""
    out = []
    for line in text.splitlines():
        if every_signal and ("signal=" in line or "SIGNAL " in line):
            line = re.sub(r" (err|trapno|ifetch)=\S+", "", line)
        elif "code=SI_KERNEL" in line or ("sig=11" in line and "code=128" in line):
            line = re.sub(r" (err|trapno|ifetch)=\S+", "", line)
        out.append(line)
    return "\n".join(out)


def compare_facts(truth, observed, host_mode, mode):
    """Lines of kernel_facts: ground truth (vsyscall=mode guest, no vdsorun) against a
    `vdsorun --vsyscall=mode` run on a vsyscall=host_mode kernel.
    Returns (differences, limits): lists of (key, expected, observed[, reason])."""
    want, got = facts_lines(truth), facts_lines(observed)
    differences, limits = [], []
    for key in list(want) + [k for k in got if k not in want]:
        w, g = want.get(key, "(missing)"), got.get(key, "(missing)")
        if w == g:
            continue
        reason = None
        if _without_stale(w) == _without_stale(g) and host_mode != mode:
            # In the host's own mode vdsorun leaves the call to the kernel, so stale state
            # that differs was left by vdsorun itself.
            reason = LIMIT_STALE
        elif (host_mode == "none" and mode != "none"
              and _without_stale(w, True) == _without_stale(g, True)):
            reason = LIMIT_FAULT_PATH
        elif key == "maps":
            reason = LIMIT_MAPS
        elif key == "process_vm_readv":
            reason = LIMIT_PVR
        elif key.startswith("read.") and host_mode == "emulate" and mode in ("none", "xonly"):
            reason = LIMIT_READ
        elif "unsupported" in (w, g):
            reason = LIMIT_AVX
        elif (key.startswith("seccomp.") and mode == "none" and host_mode != "none"
              and "SIGSYS" in g):
            reason = LIMIT_SECCOMP
        if reason:
            limits.append((key, w, g, reason))
        else:
            differences.append((key, w, g))
    return differences, limits


_HEX = re.compile(r"\b0x(?!ffffffffff6)[0-9a-f]{5,16}\b")
_DECIMAL = re.compile(r"(?<![\w.])-?\d{5,}\b")
_PAGE_SIGNED = range(-0xa00000, -0x9ff000)  # 0xffffffffff600000.. as signed 64-bit


def _decimal(m):
    return m.group(0) if int(m.group(0)) in _PAGE_SIGNED else "N"


def normalize_program_output(text):
    """Hides what moves between runs and machines: addresses outside the vsyscall page (ASLR,
    and rip inside libc's memcpy/memcmp, whose variant depends on the CPU), large decimal
    register values, and the order of lines (forked processes and threads interleave)."""
    lines = []
    for line in _DECIMAL.sub(_decimal, _HEX.sub("0xADDR", text)).splitlines():
        if "rip=0xADDR" in line:  # a fault inside libc: its registers are libc's business
            line = re.sub(r" rax=\S+", "", line)
        lines.append(line)
    return sorted(lines)


def compare_program(truth, observed, host_mode, mode, program):
    """(verdict, detail): 'same', 'limit' or 'differs' for one program run."""
    same_rc = truth.rc == observed.rc
    want, got = normalize_program_output(truth.stdout), normalize_program_output(observed.stdout)
    if same_rc and want == got:
        return "same", ""
    detail = (f"exit {observed.rc} (truth {truth.rc}); stdout {observed.stdout.strip()!r} "
              f"(truth {truth.stdout.strip()!r})")
    if (same_rc and host_mode != mode
            and [_without_stale(x) for x in want] == [_without_stale(x) for x in got]):
        return "limit", LIMIT_STALE + ": " + detail
    if (same_rc and host_mode == "none" and mode != "none"
            and [_without_stale(x, True) for x in want] == [_without_stale(x, True) for x in got]):
        return "limit", LIMIT_FAULT_PATH + ": " + detail
    if program.startswith("read_page") and host_mode == "emulate" and mode in ("none", "xonly"):
        return "limit", LIMIT_READ + ": " + detail
    if program.startswith("seccomp_self") and mode == "none" and host_mode != "none":
        return "limit", LIMIT_SECCOMP + ": " + detail
    return "differs", detail


MODES = ("direct", "none", "xonly", "emulate", "native")  # direct: the matrix without vdsorun
_MODE_IN_NAME = re.compile(r"(?<![A-Za-z])(direct|none|xonly|emulate|native)(?![A-Za-z])",
                           re.IGNORECASE)


def summarize_gtest(stdout):
    """{mode: [passed, failed, failed names, skipped]} from GoogleTest output; the mode is the last
    of direct/none/xonly/emulate/native in the test's name ('other' when there is none)."""
    table = {}
    for line in stdout.splitlines():
        # Results end with the time, "(12 ms)"; the summary at the end repeats failed names
        # without it.
        m = re.match(r"^\[\s+(OK|FAILED|SKIPPED)\s+\] (\S+?),?( where .*)? \(\d+ ms\)$",
                     line)
        if not m:
            continue
        name = m.group(2)
        found = _MODE_IN_NAME.findall(name)
        mode = found[-1].lower() if found else "other"
        row = table.setdefault(mode, [0, 0, [], 0])
        if m.group(1) == "OK":
            row[0] += 1
        elif m.group(1) == "SKIPPED":
            row[3] += 1
        else:
            row[1] += 1
            row[2].append(name)
    return table
