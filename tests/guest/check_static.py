#!/usr/bin/env python3
# tests/guest/check_static.py: asserts that a file is a statically linked ELF executable, as
# file(1) says it and as its program headers show (no PT_INTERP), and runs it.
import subprocess
import sys

import initramfs


def main(path):
    problems = []
    described = subprocess.run(["file", "-b", path], stdout=subprocess.PIPE).stdout.decode()
    print(f"file(1): {described.strip()}")
    if "statically linked" not in described:
        problems.append("file(1) does not say `statically linked`")
    if initramfs.elf_interpreter(path) is not None:
        problems.append(f"it names an ELF interpreter: {initramfs.elf_interpreter(path)}")
    version = subprocess.run([path, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    print(f"{path} --version: exit {version.returncode}: {version.stdout.decode().strip()}")
    if version.returncode != 0:
        problems.append(f"`{path} --version` exited {version.returncode}")
    for p in problems:
        print(f"FAIL: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
