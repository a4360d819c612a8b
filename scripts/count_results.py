#!/usr/bin/env python3
"""Counts test results across Meson build dirs, one per GoogleTest case where Meson has the
JUnit XML, else one per Meson test, and prints skips with their reasons. Last line:
"N passed, N failed, N skipped". Exits 1 if anything failed or nothing ran.

Usage: count_results.py [--status FILE]... BUILD_DIR...
A status file holds results that are not Meson tests (e.g. "the release build built"), one per
line: "PASS name: detail", "FAIL name: detail" or "SKIP name: reason". A missing status file
counts as one failure."""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

passed = failed = skipped = 0
args = sys.argv[1:]
builds = []
status_files = []
while args:
    arg = args.pop(0)
    if arg == "--status" and args:
        status_files.append(Path(args.pop(0)))
    else:
        builds.append(arg)

for status in status_files:
    if not status.exists():
        print(f"FAILED  {status}: no status file (did its step run?)")
        failed += 1
        continue
    for line in status.read_text().splitlines():
        if not line.strip():
            continue
        verdict, _, rest = line.strip().partition(" ")
        name, _, detail = rest.partition(": ")
        if verdict == "PASS":
            passed += 1
        elif verdict == "SKIP":
            skipped += 1
            print(f"SKIPPED {name}: {detail or 'no reason given'}")
        else:
            failed += 1
            print(f"FAILED  {name}: {detail or line}")

for build in builds:
    junit = Path(build) / "meson-logs" / "testlog.junit.xml"
    if not junit.exists():
        print(f"{build}: no test log (did meson test run?)")
        failed += 1
        continue
    tag = "sanitize: " if "sanit" in build else ""
    for suite in ET.parse(junit).getroot().iter("testsuite"):
        for case in suite.iter("testcase"):
            name = f"{tag}{suite.get('name')}/{case.get('classname', '')}.{case.get('name')}"
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                print(f"FAILED  {name}")
            elif case.find("skipped") is not None:
                skipped += 1
                el = case.find("skipped")
                reason = (el.get("message") or el.text or "no reason given").strip()
                reason = " | ".join(part.strip() for part in reason.splitlines() if part.strip())
                print(f"SKIPPED {name}: {reason}")
            else:
                passed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
