#!/usr/bin/env python3
"""Checks of a release's packages that need no installer (scripts/package-test runs it
in its tools venv, which has `packaging` and `trove-classifiers`):

  package_check.py wheels DIST   every pidone-*.whl: its files are exactly the binary,
      METADATA, WHEEL, RECORD, LICENSE and the SBOM; the binary is DIST/pidone-<arch>
      byte for byte, mode 0755; RECORD's hashes and sizes hold; every platform tag is one
      PyPI accepts; every classifier exists. Then, with packaging.tags computing what
      pip would accept on a glibc 2.17 and 2.36, and a musl 1.1 and 1.2 system of each
      architecture: exactly one wheel fits each system, the one of its architecture;
      and none fits a glibc 2.12 x86_64 system (the control: the check can say no).
  package_check.py debs DIST     every pidone_*.deb: the files and directories are
      exactly the expected ones, owned by root, with the expected modes; /usr/bin/pidone
      is DIST/pidone-<arch>; the control fields; the copyright file is in the
      machine-readable format and carries the license.
  package_check.py crate DIST    pidone-V.crate: what a build needs (Cargo.toml,
      Cargo.lock, build.rs, LICENSE, README.md, src/), nothing of fuzz/, scripts/,
      tests/, docs/, examples/.
"""

import base64
import glob
import hashlib
import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import zipfile

failures = []
LICENSE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "LICENSE")


def check(ok, message):
    print(f"  {'ok  ' if ok else 'FAIL'}  {message}")
    if not ok:
        failures.append(message)


def read(path):
    with open(path, "rb") as f:
        return f.read()


# Wheel architecture -> the release file's suffixes that may hold it.
WHEEL_ARCH = {
    "x86_64": ("amd64",),
    "aarch64": ("arm64",),
    "i686": ("i386",),
    "armv7l": ("armhf", "armv7"),
    "ppc64le": ("ppc64el", "ppc64le"),
    "s390x": ("s390x",),
    "riscv64": ("riscv64",),
}
# What PyPI's upload check accepts for Linux (warehouse, forklift/legacy.py, 2026):
# manylinux_X_Y / musllinux_X_Y for these architectures (manylinux also ppc64), and the
# manylinux2014 names of PEP 599.
PYPI_LINUX_ARCHES = {"x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x", "riscv64"}
PYPI_MANYLINUX2014 = {"x86_64", "i686", "aarch64", "armv7l", "ppc64", "ppc64le", "s390x"}


def pypi_accepts(platform):
    m = re.fullmatch(r"(many|musl)linux_\d+_\d+_(\w+)", platform)
    if m:
        return m.group(2) in PYPI_LINUX_ARCHES or (m.group(1) == "many" and m.group(2) == "ppc64")
    m = re.fullmatch(r"manylinux2014_(\w+)", platform)
    return bool(m) and m.group(1) in PYPI_MANYLINUX2014


def system_tags(arch, libc, version):
    """The tags pip (packaging.tags) accepts on a Linux system of this architecture and
    C library: packaging's own code, told the architecture and the library's version
    instead of reading them from the running interpreter."""
    from packaging import _manylinux, _musllinux, tags

    saved = (sysconfig.get_platform, _manylinux._have_compatible_abi, _manylinux._get_glibc_version,
             _musllinux._get_musl_version)
    try:
        sysconfig.get_platform = lambda: f"linux-{arch}"
        _manylinux._have_compatible_abi = lambda executable, archs: True
        if libc == "glibc":
            _manylinux._get_glibc_version = lambda: version
            _musllinux._get_musl_version = lambda executable: None
        else:
            _manylinux._get_glibc_version = lambda: (-1, -1)
            _musllinux._get_musl_version = lambda executable: _musllinux._MuslVersion(*version)
        return set(tags.sys_tags())
    finally:
        (sysconfig.get_platform, _manylinux._have_compatible_abi, _manylinux._get_glibc_version,
         _musllinux._get_musl_version) = saved


def wheels(dist):
    from packaging.utils import parse_wheel_filename
    from trove_classifiers import classifiers as known_classifiers

    version = crate_version(dist)
    found = sorted(glob.glob(os.path.join(dist, "pidone-*.whl")))
    check(bool(found), f"wheels in {dist}")
    by_arch = {}
    for path in found:
        file_name = os.path.basename(path)
        _, wversion, _, wtags = parse_wheel_filename(file_name)
        platforms = {t.platform for t in wtags}
        arches = {p.split("_", 3)[-1] if p.startswith(("manylinux_", "musllinux_")) else p.split("_", 1)[1]
                  for p in platforms}
        check(len(arches) == 1 and str(wversion) == version,
              f"{file_name}: one architecture, version {version}")
        arch = sorted(arches)[0]
        by_arch[arch] = file_name
        name = f"the {arch} wheel"
        check(all(pypi_accepts(p) for p in platforms), f"{name}: every platform tag is one PyPI accepts")
        check({t.interpreter for t in wtags} == {"py3"} and {t.abi for t in wtags} == {"none"},
              f"{name}: py3-none (no Python code, no ABI)")
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            di = f"pidone-{version}.dist-info"
            script = f"pidone-{version}.data/scripts/pidone"
            want = {script, f"{di}/METADATA", f"{di}/WHEEL", f"{di}/RECORD", f"{di}/licenses/LICENSE",
                    f"{di}/sboms/pidone.cdx.json"}
            check(set(names) == want and len(names) == len(want),
                  f"{name}: exactly the binary, METADATA, WHEEL, RECORD, LICENSE and the SBOM")
            releases = [os.path.join(dist, f"pidone-{a}") for a in WHEEL_ARCH.get(arch, ())]
            releases = [r for r in releases if os.path.exists(r)]
            check(len(releases) == 1 and z.read(script) == read(releases[0]),
                  f"{name}: bin/pidone is {releases[0] if releases else 'a release binary'} byte for byte")
            check((z.getinfo(script).external_attr >> 16) & 0o777 == 0o755, f"{name}: bin/pidone has mode 0755")
            check(z.read(f"{di}/licenses/LICENSE") == read(LICENSE), f"{name}: the license")
            check(z.read(f"{di}/sboms/pidone.cdx.json") == read(os.path.join(dist, "pidone.cdx.json")),
                  f"{name}: the release's SBOM")
            record_ok = True
            for line in z.read(f"{di}/RECORD").decode().splitlines():
                file, digest, size = line.rsplit(",", 2)
                if file == f"{di}/RECORD":
                    record_ok &= digest == "" and size == ""
                    continue
                data = z.read(file)
                want_digest = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                record_ok &= digest == want_digest and int(size) == len(data)
            check(record_ok and len(z.read(f"{di}/RECORD").decode().splitlines()) == len(names),
                  f"{name}: RECORD lists every file with its sha256 and size")
            wheel_meta = z.read(f"{di}/WHEEL").decode()
            check("Root-Is-Purelib: false" in wheel_meta
                  and {f"py3-none-{p}" for p in platforms} == set(re.findall(r"^Tag: (\S+)$", wheel_meta, re.M)),
                  f"{name}: WHEEL lists the file name's tags")
            meta = z.read(f"{di}/METADATA").decode()
            classifiers = re.findall(r"^Classifier: (.+)$", meta, re.M)
            unknown = [c for c in classifiers if c not in known_classifiers]
            check(classifiers and not unknown, f"{name}: classifiers exist ({unknown or len(classifiers)})")

    systems = [("glibc", (2, 17)), ("glibc", (2, 36)), ("musl", (1, 1)), ("musl", (1, 2))]
    for arch in sorted(by_arch):
        for libc, v in systems:
            accepted = system_tags(arch, libc, v)
            fits = [n for n in found if set(parse_wheel_filename(os.path.basename(n))[3]) & accepted]
            check([os.path.basename(n) for n in fits] == [by_arch[arch]],
                  f"{arch} {libc} {v[0]}.{v[1]}: of all the wheels, pip takes the {arch} one")
    accepted = system_tags("x86_64", "glibc", (2, 12))
    fits = [n for n in found if set(parse_wheel_filename(os.path.basename(n))[3]) & accepted]
    check(not fits, "control: no wheel fits x86_64 glibc 2.12 (older than the tags say)")


def crate_version(dist):
    crates = glob.glob(os.path.join(dist, "pidone-*.crate"))
    if len(crates) != 1:
        sys.exit(f"package_check: want one pidone-*.crate in {dist}, found {crates}")
    return os.path.basename(crates[0])[len("pidone-") : -len(".crate")]


def debs(dist):
    version = crate_version(dist)
    found = sorted(glob.glob(os.path.join(dist, "pidone_*.deb")))
    check(bool(found), f".debs in {dist}")
    files = {
        "./usr/bin/pidone": "-rwxr-xr-x",
        "./usr/share/doc/pidone/changelog.gz": "-rw-r--r--",
        "./usr/share/doc/pidone/copyright": "-rw-r--r--",
        "./usr/share/lintian/overrides/pidone": "-rw-r--r--",
        "./usr/share/man/man1/pidone.1.gz": "-rw-r--r--",
    }
    dirs = {"./", "./usr/", "./usr/bin/", "./usr/share/", "./usr/share/doc/", "./usr/share/doc/pidone/",
            "./usr/share/lintian/", "./usr/share/lintian/overrides/", "./usr/share/man/",
            "./usr/share/man/man1/"}
    for path in found:
        name = os.path.basename(path)
        m = re.fullmatch(rf"pidone_{re.escape(version)}_(\w+)\.deb", name)
        check(bool(m), f"{name}: pidone_{version}_<arch>.deb")
        if not m:
            continue
        arch = m.group(1)
        listing = subprocess.run(["dpkg-deb", "--contents", path], check=True, capture_output=True, text=True).stdout
        seen = {}
        for line in listing.splitlines():
            mode, owner, _size, _date, _time, entry = line.split(None, 5)
            seen[entry] = (mode, owner)
        want = {**files, **{d: "drwxr-xr-x" for d in dirs}}
        check(set(seen) == set(want), f"{name}: exactly the expected paths ({sorted(set(seen) ^ set(want)) or 'ok'})")
        check(all(seen[e] == (want[e], "root/root") for e in seen if e in want), f"{name}: modes, owned by root/root")
        fields = subprocess.run(["dpkg-deb", "--field", path], check=True, capture_output=True, text=True).stdout
        check(f"Package: pidone\nVersion: {version}\nArchitecture: {arch}\n" in fields
              and "\nDepends:" not in fields, f"{name}: Package, Version, Architecture {arch}, no Depends")
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["dpkg-deb", "--extract", path, tmp], check=True)
            release = os.path.join(dist, f"pidone-{arch}")
            if not os.path.exists(release):
                release = os.path.join(dist, {"armhf": "pidone-armv7", "ppc64el": "pidone-ppc64le"}.get(arch, "-"))
            check(os.path.exists(release) and read(os.path.join(tmp, "usr/bin/pidone")) == read(release),
                  f"{name}: /usr/bin/pidone is {os.path.basename(release)} byte for byte")
            copyright_text = read(os.path.join(tmp, "usr/share/doc/pidone/copyright")).decode()
            check(copyright_text.startswith("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n")
                  and "\nFiles: *\n" in copyright_text and "\nLicense: Expat\n" in copyright_text
                  and " Permission is hereby granted" in copyright_text,
                  f"{name}: copyright is machine-readable and carries the license")


def crate(dist):
    version = crate_version(dist)
    path = os.path.join(dist, f"pidone-{version}.crate")
    with tarfile.open(path) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    needed = {"Cargo.toml", "Cargo.lock", "build.rs", "LICENSE", "README.md", "src/main.rs"}
    label = os.path.basename(path)
    check(needed <= names, f"{label}: holds {sorted(needed)}")
    not_needed = ("fuzz", "scripts", "tests", "docs", "examples", ".ci", ".cargo")
    stray = sorted(n for n in names if n.split("/")[0] in not_needed)
    check(not stray, f"{label}: nothing of fuzz/, scripts/, tests/, docs/, examples/ ({stray[:5] or 'none'})")
    check(all(n.startswith("src/") or "/" not in n for n in names), f"{label}: only top-level files and src/")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("wheels", "debs", "crate"):
        sys.exit(__doc__)
    {"wheels": wheels, "debs": debs, "crate": crate}[sys.argv[1]](sys.argv[2])
    if failures:
        sys.exit(f"package_check {sys.argv[1]}: {len(failures)} check(s) failed")


if __name__ == "__main__":
    main()
