# tests/guest/initramfs.py: writes a gzip'd newc cpio archive (the guest's root file system)
# from host files, pulling in the ELF interpreter and shared libraries of dynamic programs.
import gzip
import os
import pathlib
import stat
import struct
import subprocess

_PT_INTERP = 3


def elf_interpreter(path):
    """The PT_INTERP path of a 64-bit ELF file, or None for a static program or non-ELF file."""
    with open(path, "rb") as f:
        header = f.read(64)
        if len(header) < 64 or header[:4] != b"\x7fELF" or header[4] != 2:
            return None
        phoff, = struct.unpack_from("<Q", header, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            p_type, _flags, p_offset, _vaddr, _paddr, p_filesz = struct.unpack("<IIQQQQ", f.read(40))
            if p_type == _PT_INTERP:
                f.seek(p_offset)
                return f.read(p_filesz).rstrip(b"\0").decode()
    return None


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def shared_libraries(path):
    """Absolute paths of the libraries (and the interpreter) a dynamic program loads on this
    host, as ldd reports them. Raises RuntimeError when one cannot be found."""
    proc = subprocess.run(["ldd", str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.decode(errors="replace")
    libs = []
    for line in out.splitlines():
        line = line.strip()
        if "=> not found" in line:
            raise RuntimeError(f"{path}: ldd says {line}")
        if "=>" in line:
            target = line.split("=>", 1)[1].strip().split(" (")[0].strip()
            if target.startswith("/"):
                libs.append(target)
        elif line.startswith("/"):
            libs.append(line.split(" (")[0].strip())
    return libs


class Initramfs:
    """A set of guest paths with their contents; write() produces the archive."""

    def __init__(self):
        self._entries = {}  # guest path -> (mode, data bytes, rdev)

    def _add_parents(self, path):
        parent = os.path.dirname(path)
        while parent not in ("", "/") and parent not in self._entries:
            self._entries[parent] = (stat.S_IFDIR | 0o755, b"", 0)
            parent = os.path.dirname(parent)

    def add_dir(self, path):
        self._add_parents(path)
        self._entries[path] = (stat.S_IFDIR | 0o755, b"", 0)

    def add_bytes(self, path, data, mode=0o755):
        self._add_parents(path)
        self._entries[path] = (stat.S_IFREG | mode, data, 0)

    def add_char_device(self, path, major, minor, mode=0o600):
        self._add_parents(path)
        self._entries[path] = (stat.S_IFCHR | mode, b"", os.makedev(major, minor))

    def add_host_file(self, path, host_path, mode=None):
        host_path = pathlib.Path(host_path)
        if mode is None:
            mode = stat.S_IMODE(host_path.stat().st_mode)
        self.add_bytes(path, host_path.read_bytes(), mode)

    def add_program(self, path, host_path):
        """Adds a program; for a dynamic one also its interpreter and libraries, at the paths
        the host's loader would find them."""
        self.add_host_file(path, host_path, 0o755)
        if elf_interpreter(host_path) is not None:
            for lib in shared_libraries(host_path):
                if lib not in self._entries:
                    self.add_host_file(lib, os.path.realpath(lib), 0o755)

    def has(self, path):
        return path in self._entries

    def write(self, out_path):
        out_path = pathlib.Path(out_path)
        tmp = out_path.with_name(out_path.name + ".part")
        with gzip.open(tmp, "wb", compresslevel=1) as out:
            ino = 1
            for path in sorted(self._entries):
                mode, data, rdev = self._entries[path]
                _write_entry(out, ino, path.lstrip("/"), mode, data, rdev)
                ino += 1
            _write_entry(out, ino, "TRAILER!!!", 0, b"", 0)
        tmp.rename(out_path)
        return out_path


def _pad4(out, length):
    if length % 4:
        out.write(b"\0" * (4 - length % 4))


def _write_entry(out, ino, name, mode, data, rdev):
    encoded = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0, len(data), 0, 0,
              os.major(rdev), os.minor(rdev), len(encoded), 0]
    header = b"070701" + b"".join(b"%08x" % v for v in fields)
    out.write(header)
    out.write(encoded)
    _pad4(out, len(header) + len(encoded))
    out.write(data)
    _pad4(out, len(data))
