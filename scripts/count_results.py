#!/usr/bin/env python3
"""Counts test results across Meson build dirs, one per GoogleTest case where Meson has the
JUnit XML, else one per Meson test, and prints skips with their reasons. Last line:
"N passed, N failed, N skipped". Exits 1 if anything failed or nothing ran."""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

passed = failed = skipped = 0
for build in sys.argv[1:]:
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
