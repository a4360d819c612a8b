# tests/guest/guest_machine.py: what a guest needs from the host (QEMU, Debian's kernel, a
# static busybox, all cached in the build directory) and one guest boot with a time limit.
import lzma
import os
import pathlib
import shutil
import struct
import subprocess
import time
import zlib

import debpkg

KERNEL_META_PACKAGE = "linux-image-amd64"
BUSYBOX_PACKAGE = "busybox-static"
QEMU_PACKAGE = "qemu-system-x86"
QEMU = "qemu-system-x86_64"


class GuestError(Exception):
    """The guest could not be prepared or run; the message says what failed."""


def ensure_qemu():
    """Returns the path of qemu-system-x86_64, installing Debian's package if it is missing."""
    path = shutil.which(QEMU)
    if path:
        return path
    try:
        proc = subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                               QEMU_PACKAGE],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    except OSError as e:
        raise GuestError(f"{QEMU} missing and apt-get could not run: {e}") from e
    path = shutil.which(QEMU)
    if not path:
        tail = proc.stdout.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise GuestError(f"{QEMU} missing and `apt-get install {QEMU_PACKAGE}` failed "
                         f"(exit {proc.returncode}): {tail[0]}")
    return path


def _has_pvh_note(elf):
    """Whether an ELF kernel carries the Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY), which
    lets QEMU boot it directly with -kernel."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        return False
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * phentsize)
        if p_type != 4:  # PT_NOTE
            continue
        pos, end = p_offset, p_offset + p_filesz
        while pos + 12 <= end:
            namesz, descsz, note_type = struct.unpack_from("<III", elf, pos)
            name = elf[pos + 12:pos + 12 + namesz].rstrip(b"\0")
            if name == b"Xen" and note_type == 18:
                return True
            pos += 12 + (namesz + 3) // 4 * 4 + (descsz + 3) // 4 * 4
    return False


def _decompress_vmlinux(vmlinuz, vmlinux):
    """Unpacks the ELF kernel from a bzImage. Booting it through QEMU's PVH entry skips the
    firmware's slow kernel loading and the kernel's own decompression, which under TCG take
    about 5 s of a 6 s boot. Returns False when the image is not an xz/gzip-packed PVH kernel."""
    data = vmlinuz.read_bytes()
    elf = None
    start = data.find(b"\xfd7zXZ\x00")
    if start >= 0:
        try:
            elf = lzma.LZMADecompressor().decompress(data[start:])
        except lzma.LZMAError:
            elf = None
    if elf is None:
        start = data.find(b"\x1f\x8b\x08")
        if start >= 0:
            try:
                elf = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[start:])
            except zlib.error:
                elf = None
    if not elf or not _has_pvh_note(elf):
        return False
    tmp = vmlinux.with_name(vmlinux.name + ".part")
    tmp.write_bytes(elf)
    tmp.rename(vmlinux)
    return True


class Kernel:
    """Debian's kernel: the bzImage (booted through the firmware; the kernel then enables
    5-level paging when the CPU has LA57, as QEMU's `-cpu max` does) and, when it could be
    unpacked, the ELF vmlinux (booted through QEMU's PVH entry, 4-level paging, ~5 s faster)."""

    def __init__(self, vmlinuz, vmlinux, package):
        self.vmlinuz = vmlinuz
        self.vmlinux = vmlinux
        self.package = package

    def image(self, five_level):
        return self.vmlinuz if five_level or self.vmlinux is None else self.vmlinux


def fetch_kernel(cache_dir):
    """Downloads the linux-image-amd64 meta package and the image package it depends on,
    extracts vmlinuz and unpacks vmlinux once (cached)."""
    cache_dir = pathlib.Path(cache_dir)
    vmlinuz = cache_dir / "vmlinuz"
    vmlinux = cache_dir / "vmlinux"
    version_file = cache_dir / "vmlinuz.package"
    if not (vmlinuz.exists() and version_file.exists()):
        try:
            meta = debpkg.download(KERNEL_META_PACKAGE, cache_dir)
            images = [d for d in debpkg.depends(meta) if d.startswith("linux-image-")]
            if not images:
                raise GuestError(f"{meta.name} depends on no linux-image-* package")
            image = debpkg.download(images[0], cache_dir)
            members = [m for m in debpkg.list_members(image) if m.startswith("./boot/vmlinuz-")]
            if not members:
                raise GuestError(f"{image.name} holds no /boot/vmlinuz-*")
            debpkg.extract_member(image, members[0], vmlinuz)
        except debpkg.FetchError as e:
            raise GuestError(f"kernel download failed: {e}") from e
        vmlinux.unlink(missing_ok=True)
        version_file.write_text(image.name + "\n")
    if not vmlinux.exists() and not _decompress_vmlinux(vmlinuz, vmlinux):
        vmlinux = None
    return Kernel(vmlinuz, vmlinux, version_file.read_text().strip())


def fetch_busybox(cache_dir):
    """A static busybox from Debian's busybox-static package (never the host's /bin)."""
    cache_dir = pathlib.Path(cache_dir)
    busybox = cache_dir / "busybox"
    if busybox.exists():
        return busybox
    try:
        deb = debpkg.download(BUSYBOX_PACKAGE, cache_dir)
        debpkg.extract_member(deb, "./bin/busybox", busybox)
    except debpkg.FetchError as e:
        raise GuestError(f"busybox download failed: {e}") from e
    busybox.chmod(0o755)
    return busybox


class Boot:
    """The outcome of one guest boot."""

    def __init__(self, mode, seconds, timed_out, exit_code, console, results):
        self.mode = mode
        self.seconds = seconds
        self.timed_out = timed_out
        self.exit_code = exit_code
        self.console = console  # ttyS0: kernel log
        self.results = results  # ttyS1: the framed job output


def boot(qemu, vmlinuz, initrd, mode, work_dir, timeout, memory="512M", cpus=2):
    """Boots vmlinuz with vsyscall=mode under TCG and waits for it to power off (or kills it
    after `timeout` seconds)."""
    work_dir = pathlib.Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    console = work_dir / f"console-{mode}.log"
    results = work_dir / f"results-{mode}.log"
    for f in (console, results):
        f.unlink(missing_ok=True)
    cmdline = (f"console=ttyS0 panic=-1 vsyscall={mode} quiet loglevel=4 "
               "rdinit=/init")
    argv = [qemu, "-accel", "tcg", "-cpu", "max", "-smp", str(cpus), "-m", memory,
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-kernel", str(vmlinuz), "-initrd", str(initrd), "-append", cmdline,
            "-serial", f"file:{console}", "-serial", f"file:{results}"]
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.kill()
        out, _ = proc.communicate()
    seconds = time.monotonic() - start
    qemu_output = out.decode(errors="replace").strip()
    if proc.returncode != 0 and not timed_out:
        raise GuestError(f"{QEMU} exited {proc.returncode} for the vsyscall={mode} guest: "
                         + (qemu_output.splitlines()[-1] if qemu_output else "no message"))
    read = lambda p: p.read_bytes().decode(errors="replace") if p.exists() else ""
    return Boot(mode, seconds, timed_out, proc.returncode, read(console), read(results))
