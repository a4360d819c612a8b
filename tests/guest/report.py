# tests/guest/report.py: turns the results of every runner (this host and each guest) into
# the tables the guest test prints (and writes as Markdown), and the list of failures.
import re

import compare
import kselftest_vsyscall as kv

VDSORUN_MODES = ("none", "xonly", "emulate", "native")


class Runner:
    """Where a plan ran: 'host' or 'guest-<mode>', the kernel's vsyscall mode, the results."""

    def __init__(self, name, mode, results, cpus, seconds, problem, boot_uptime="",
                 done_uptime=None):
        self.name = name
        self.mode = mode
        self.results = results
        self.cpus = cpus
        self.seconds = seconds
        self.problem = problem
        self.header = boot_uptime
        self.done_uptime = done_uptime

    def get(self, job_id):
        r = self.results.get(job_id)
        return r if r is not None and r.finished else None


def _label(run):
    return "without vdsorun" if run == "plain" else f"--vsyscall={run}"


class Table:
    def __init__(self, title, columns):
        self.title = title
        self.columns = columns
        self.rows = []

    def add(self, name, cells):
        self.rows.append([name] + cells)

    def text(self):
        widths = [max(len(str(r[i])) for r in [self.columns] + self.rows)
                  for i in range(len(self.columns))]
        lines = [self.title]
        for row in [self.columns] + self.rows:
            lines.append("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
        return "\n".join(lines)

    def markdown(self):
        lines = [f"### {self.title}", "", "| " + " | ".join(self.columns) + " |",
                 "|" + "---|" * len(self.columns)]
        for row in self.rows:
            lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
        return "\n".join(lines)


class Report:
    def __init__(self, plan, runners, guest_modes):
        self.plan = plan
        self.runners = runners
        self.guest_modes = guest_modes
        self.failures = []
        self.notes = []

    def truth(self, mode, job_id):
        runner = self.runners.get(f"guest-{mode}")
        return runner.get(job_id) if runner else None

    # --- sections -------------------------------------------------------------------------

    def boots(self):
        t = Table("Runs (guests: QEMU TCG, Debian kernel)",
                  ["runner", "kernel vsyscall", "paging", "wall time", "kernel start to /init",
                   "jobs finished", "status"])
        for r in self.runners.values():
            finished = sum(1 for x in r.results.values() if x.finished)
            m = re.search(r"boot=([\d.]+)", r.header or "")
            to_init = f"{float(m.group(1)):.1f} s" if m else "-"
            la57 = re.search(r"la57=(\d+)", r.header or "")
            paging = ("5-level" if la57.group(1) != "0" else "4-level") if la57 else "-"
            t.add(r.name, [r.mode, paging, f"{r.seconds:.1f} s", to_init,
                           f"{finished}/{len(self.plan.jobs)}", r.problem or "ok"])
            if r.problem:
                self.failures.append(f"{r.name}: {r.problem}")
        return t

    def facts(self):
        t = Table("kernel_facts under vdsorun vs. a real kernel of that mode",
                  ["runner"] + [_label(m) for m in VDSORUN_MODES])
        details = []
        for r in self.runners.values():
            cells = []
            for mode in VDSORUN_MODES:
                got = r.get(f"facts/{mode}")
                truth = self.truth(mode, "facts/plain")
                if got is None:
                    cells.append("not run")
                    if not r.problem:
                        self.failures.append(f"{r.name}: facts/{mode} did not finish")
                    continue
                if mode == "native" or truth is None:
                    ok = got.rc == 0 and got.stdout.rstrip().endswith("done")
                    cells.append(("ran" if ok else f"died (exit {got.rc})") + ", no ground truth")
                    continue
                diffs, limits = compare.compare_facts(truth.stdout, got.stdout, r.mode, mode)
                if got.rc != truth.rc:
                    diffs.append(("exit status", str(truth.rc), str(got.rc)))
                cell = "same" if not diffs else f"{len(diffs)} differ"
                if limits:
                    cell += f" ({len(limits)} host limits)"
                cells.append(cell)
                for key, w, g in diffs:
                    details.append(f"{r.name} --vsyscall={mode}: {key}: got `{g}`, a vsyscall={mode} "
                                   f"kernel gives `{w}`")
                    self.failures.append(f"{r.name}: kernel_facts --vsyscall={mode}: {key} differs")
                for key, w, g, why in limits:
                    self.notes.append(f"{r.name} --vsyscall={mode}: {key}: `{g}` vs `{w}` "
                                      f"(limit: {why})")
            t.add(r.name, cells)
        # The host's own kernel against the guest of the same mode: do the facts depend on
        # the kernel version?
        host = self.runners.get("host")
        if host and host.get("facts/plain"):
            truth = self.truth(host.mode, "facts/plain")
            if truth:
                diffs, _ = compare.compare_facts(truth.stdout, host.get("facts/plain").stdout,
                                                 host.mode, host.mode)
                diffs = [d for d in diffs if d[0] not in ("maps", "process_vm_readv")]
                self.notes.append(
                    f"host kernel without vdsorun vs. the 6.1 vsyscall={host.mode} guest: "
                    + ("identical facts" if not diffs else
                       "; ".join(f"{k}: host `{g}`, guest `{w}`" for k, w, g in diffs)))
        return t, details

    def ground_truth(self):
        blocks = []
        for mode in self.guest_modes:
            truth = self.truth(mode, "facts/plain")
            if truth is None:
                self.failures.append(f"guest-{mode}: no ground-truth kernel_facts output")
                continue
            blocks.append(f"vsyscall={mode} (no vdsorun):\n" + truth.stdout.rstrip())
        return blocks

    def ground_truth_table(self):
        """kernel_facts without vdsorun, one row per case, one column per kernel."""
        columns = {}
        for r in self.runners.values():
            got = r.get("facts/plain")
            if got is not None:
                columns[f"{r.name} (vsyscall={r.mode})"] = compare.facts_lines(got.stdout)
        if not columns:
            return None
        t = Table("Ground truth: what each kernel does (kernel_facts without vdsorun)",
                  ["case"] + list(columns))
        keys = list(dict.fromkeys(k for col in columns.values() for k in col))
        for key in keys:
            t.add(f"`{key}`", [f"`{col.get(key, '-')}`" for col in columns.values()])
        return t

    def selftest(self):
        """One table over both builds of test_vsyscall: each cell is the observed outcome,
        marked ok when it matches the expectation for that kernel mode and run (a cell where
        the static and dynamic builds differ shows both)."""
        linkages = sorted({j.id.split("/")[0] for j in self.plan.jobs
                           if j.id.startswith("test_vsyscall_")})
        t = Table("test_vsyscall (kernel selftest from linux-source-6.1): observed, and whether "
                  "it is the expected result",
                  ["kernel"] + [_label(m) for m in kv.RUNS])
        whys = {}
        for r in self.runners.values():
            cells = []
            for run in kv.RUNS:
                cell = kv.expected(r.mode, run, r.cpus)
                for name, why in list(cell.why.items()) + list(cell.gaps.items()):
                    whys[(r.mode, run, name)] = why
                texts = {}
                for key in linkages:
                    got = r.get(f"{key}/{run}")
                    if got is None:
                        texts[key] = "not run"
                        if not r.problem:
                            self.failures.append(f"{r.name}: {key}/{run} did not finish")
                        continue
                    problems = kv.check(cell, got.rc, got.stdout)
                    text = kv.summarize(got.rc, got.stdout)
                    if problems:
                        text += f" ✗ (expected: {kv.describe(cell)})"
                        for p in problems:
                            self.failures.append(f"{r.name}: {key} {_label(run)}: {p}")
                    else:
                        text += " ✓"
                    texts[key] = text
                if len(set(texts.values())) == 1:
                    cells.append(next(iter(texts.values())))
                else:
                    cells.append("; ".join(f"{k.split('_')[-1]}: {v}" for k, v in texts.items()))
            t.add(f"{r.name}: vsyscall={r.mode}", cells)
        reasons = [f"vsyscall={m} kernel, {_label(run)}: {name}: {why}"
                   for (m, run, name), why in sorted(whys.items())]
        return [t], reasons

    def programs(self):
        t = Table("tracee programs under vdsorun vs. the same run on a real kernel of that mode",
                  ["runner"] + [_label(m) for m in ("plain",) + tuple(self.guest_modes)])
        details = []
        if self.plan.missing_programs and self.plan.program_runs:
            self.failures.append("programs named in tests/guest/program_cases.txt but not built: "
                                 + ", ".join(sorted(self.plan.missing_programs)))
        elif self.plan.missing_programs:
            self.notes.append("no tracee programs built (tests/programs): program rows are empty")
        for name, args, prefix in self.plan.program_runs:
            for mode in self.guest_modes:
                truth = self.truth(mode, f"{prefix}/plain")
                if truth and "FAIL usage" in truth.stdout:
                    self.failures.append(f"program case `{name} {' '.join(args)}` is unknown to "
                                         "the program: update tests/guest/program_cases.txt")
        for r in self.runners.values():
            cells = []
            for mode in ("plain",) + tuple(self.guest_modes):
                counts = {"same": 0, "limit": 0, "differs": 0, "not run": 0, "no truth": 0}
                truth_mode = r.mode if mode == "plain" else mode
                if mode == "plain" and r.name.startswith("guest-"):
                    cells.append("(ground truth)")
                    continue
                for name, args, prefix in self.plan.program_runs:
                    got = r.get(f"{prefix}/{mode}")
                    truth = self.truth(truth_mode, f"{prefix}/plain")
                    if got is None:
                        counts["not run"] += 1
                        continue
                    if truth is None:
                        counts["no truth"] += 1
                        continue
                    verdict, detail = compare.compare_program(truth, got, r.mode, truth_mode, name)
                    counts[verdict] += 1
                    what = f"{r.name} {_label(mode)}: {name} {' '.join(args)}"
                    if verdict == "differs":
                        details.append(f"{what}: {detail}")
                        if mode == "plain":
                            self.notes.append(f"kernel versions differ: {what}: {detail}")
                        else:
                            self.failures.append(f"{what}: differs from a vsyscall={mode} kernel")
                    elif verdict == "limit":
                        self.notes.append(f"{what}: {detail}")
                cells.append(", ".join(f"{v} {k}" for k, v in counts.items() if v) or "-")
            t.add(f"{r.name} ({r.mode})", cells)
        return t, details

    def matrix(self):
        if "matrix" not in self.plan.payload.files:
            return None, []
        columns = list(compare.MODES) + ["other"]
        t = Table("GoogleTest matrix vdsorun_matrix (passed/failed per column)",
                  ["runner"] + columns + ["exit"])
        details = []
        for r in self.runners.values():
            got = r.get("matrix")
            if got is None:
                t.add(f"{r.name} ({r.mode})", ["not run"] * (len(columns) + 1))
                if not r.problem:
                    self.failures.append(f"{r.name}: the matrix did not finish")
                continue
            summary = compare.summarize_gtest(got.stdout)
            cells = []
            for mode in columns:
                passed, failed, names, skipped = summary.get(mode, [0, 0, [], 0])
                cells.append(f"{passed}/{failed}" + (f" ({skipped} skipped)" if skipped else ""))
                for n in names:
                    details.append(f"{r.name}: {n}")
            cells.append(str(got.rc))
            if got.rc != 0:
                self.failures.append(f"{r.name}: vdsorun_matrix exited {got.rc}")
            t.add(f"{r.name} ({r.mode})", cells)
        return t, details

    # --- output -----------------------------------------------------------------------------

    @staticmethod
    def _capped(lines, prefix, limit=12):
        """At most `limit` lines per runner/mode group (the first two words); the rest counted."""
        shown, hidden = [], {}
        counts = {}
        for line in lines:
            group = " ".join(line.split(" ")[:2])
            counts[group] = counts.get(group, 0) + 1
            if counts[group] <= limit:
                shown.append(prefix + line)
            else:
                hidden[group] = hidden.get(group, 0) + 1
        shown += [f"{prefix}{g}: ... {n} more (see the details file)" for g, n in hidden.items()]
        return shown

    def render(self):
        text, md = [], [
            "# Guest-kernel test results", "",
            "Generated by `tests/guest/run_guests.py` (`meson test --suite guest`): Debian's "
            "kernel booted under QEMU TCG with vsyscall=none, xonly and emulate, and this host. "
            "Without vdsorun a program sees the kernel's own behaviour (the ground truth); "
            "`vdsorun --vsyscall=X` should look like the vsyscall=X kernel on every host, except "
            "for the host limits listed in tests/guest/README.md.", ""]

        boots = self.boots()
        text.append(boots.text())
        md += [boots.markdown(), ""]

        truth = self.ground_truth()
        text.append("\nGround truth: kernel_facts without vdsorun\n" + "\n\n".join(truth))
        facts_table = self.ground_truth_table()
        if facts_table:
            md += [facts_table.markdown(), ""]

        facts, fact_details = self.facts()
        text.append("\n" + facts.text())
        text += self._capped(fact_details, "  ")
        md += [facts.markdown(), ""]

        tables, reasons = self.selftest()
        for t in tables:
            text.append("\n" + t.text())
            md += [t.markdown(), ""]
        if reasons:
            text.append("Expected non-passes (why):")
            text += ["  - " + r for r in reasons]
            md += ["Expected non-passes:", ""] + ["- " + r for r in reasons] + [""]

        programs, prog_details = self.programs()
        text.append("\n" + programs.text())
        text += self._capped(prog_details, "  ")
        md += [programs.markdown(), ""]

        matrix, matrix_details = self.matrix()
        if matrix:
            text.append("\n" + matrix.text())
            text += self._capped(matrix_details, "  failed: ", 20)
            md += [matrix.markdown(), ""]

        if self.notes:
            text.append("\nNotes (host limits and kernel-version differences, not failures):")
            text += ["  - " + n for n in self.notes]
        self.details = fact_details + prog_details + ["matrix failed: " + d for d in matrix_details]
        return "\n".join(text), "\n".join(md) + "\n", self.failures
