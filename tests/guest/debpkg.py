# tests/guest/debpkg.py: fetches Debian packages with `apt-get download` into a cache directory
# in the build tree and extracts single files from them, so tests never install what they use.
import os
import pathlib
import shutil
import subprocess


class FetchError(Exception):
    """A download or extraction failed; the message says which package and why."""


def _run(argv, cwd=None, what=""):
    try:
        proc = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError as e:
        raise FetchError(f"{what}: {argv[0]} not found ({e})") from e
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        raise FetchError(f"{what}: `{' '.join(argv)}` exited {proc.returncode}: "
                         + (err[-1] if err else "no message"))
    return proc.stdout.decode(errors="replace")


def download(package, cache_dir):
    """Returns the path of package's .deb in cache_dir, downloading it if it is not there yet."""
    cache_dir = pathlib.Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    existing = sorted(cache_dir.glob(f"{package}_*.deb"))
    if existing:
        return existing[-1]
    # apt drops privileges to _apt when it can; a private directory makes it warn and fall
    # back to root, which is harmless. Download into a temporary name so an interrupted run
    # never leaves a half file that looks cached.
    tmp = cache_dir / f".download-{package}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    os.chmod(tmp, 0o777)
    _run(["apt-get", "download", "-q", package], cwd=tmp,
         what=f"download of Debian package {package} failed")
    debs = sorted(tmp.glob(f"{package}_*.deb"))
    if not debs:
        raise FetchError(f"download of Debian package {package} failed: apt-get left no .deb")
    target = cache_dir / debs[-1].name
    debs[-1].rename(target)
    shutil.rmtree(tmp, ignore_errors=True)
    return target


def depends(deb):
    """The package names in a .deb's Depends field (versions and alternatives dropped)."""
    field = _run(["dpkg-deb", "-f", str(deb), "Depends"], what=f"reading Depends of {deb}")
    names = []
    for clause in field.split(","):
        name = clause.split("|")[0].split("(")[0].strip()
        if name:
            names.append(name)
    return names


def list_members(deb):
    """Paths inside the data archive of a .deb, as dpkg-deb prints them (./boot/...)."""
    listing = _run(["dpkg-deb", "-c", str(deb)], what=f"listing {deb}")
    return [line.split()[-1] for line in listing.splitlines() if line.strip()]


def extract_member(deb, member, target):
    """Writes one file of a .deb's data archive to target (atomically)."""
    target = pathlib.Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    with open(tmp, "wb") as out:
        fsys = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
        tar = subprocess.run(["tar", "-xO", member], stdin=fsys.stdout, stdout=out,
                             stderr=subprocess.PIPE)
        fsys.stdout.close()
        fsys.wait()
    if fsys.returncode != 0 or tar.returncode != 0 or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        raise FetchError(f"extracting {member} from {deb} failed: "
                         + tar.stderr.decode(errors="replace").strip())
    tmp.rename(target)
    return target
