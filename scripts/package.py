#!/usr/bin/env python3
"""The release's packages, made from the release binaries (no compiler, no rebuild): the
wheels pip and uv install, the .debs apt installs, and the man page the .debs carry.

  package.py wheel --out DIR --version V --epoch SECONDS --license FILE --summary TEXT
                   [--sbom FILE] [--repository URL] ARCH=BINARY...
      One wheel per architecture that has a PyPI platform tag:
      pidone-V-py3-none-<tags>.whl holding the binary as pidone-V.data/scripts/pidone
      (pip and uv install it as <venv>/bin/pidone), METADATA, WHEEL, the license and
      the SBOM (.dist-info/sboms/), RECORD. The tags let pip pick the wheel on glibc
      (manylinux_2_17) and musl (musllinux_1_1) systems: the binary is static, so no
      C library version matters. armel (ARMv5) has no tag PyPI accepts: no wheel.

  package.py man --out FILE --version V --epoch SECONDS --help-text FILE
      pidone.1 (roff), made from what `pidone --help` prints: NAME and DESCRIPTION from
      its first paragraph, SYNOPSIS from the Usage lines, OPTIONS from the option
      table, EXIT STATUS and NOTES from the paragraphs after it.

  package.py deb --out DIR --version V --revision REV --epoch SECONDS --license FILE
                 --man FILE --maintainer TEXT --summary TEXT [--repository URL]
                 [--sbom FILE] ARCH=BINARY...
      pidone_V_<debian arch>.deb per architecture (dpkg-deb): /usr/bin/pidone, the
      machine-readable /usr/share/doc/pidone/copyright, changelog.gz, the man page,
      and lintian overrides for what any static binary is told (each explained).

ARCH is the release file's suffix (pidone-ARCH): Debian's architecture names (amd64
arm64 i386 armhf armel ppc64el s390x riscv64) or the Docker ones scripts/release also
knows (armv7, ppc64le). Every byte is a function of the inputs: fixed timestamps
(--epoch), sorted entries, owner root, fixed compression levels; the wheels' deflate
comes from Python's zlib and the .debs' xz from dpkg-deb, so the same versions of those
give the same files. Standard library only (and dpkg-deb for `deb`).
"""

import argparse
import base64
import gzip
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

# Release file suffix -> (Debian architecture, the wheel's architecture or None).
ARCHES = {
    "amd64": ("amd64", "x86_64"),
    "arm64": ("arm64", "aarch64"),
    "i386": ("i386", "i686"),
    "armhf": ("armhf", "armv7l"),
    "armv7": ("armhf", "armv7l"),
    # ARMv5TE: PyPI takes manylinux/musllinux tags for armv7l at the lowest, and an
    # ARMv7 wheel could be installed on a machine that cannot run ARMv5 code anyway.
    "armel": ("armel", None),
    "ppc64el": ("ppc64el", "ppc64le"),
    "ppc64le": ("ppc64el", "ppc64le"),
    "s390x": ("s390x", "s390x"),
    "riscv64": ("riscv64", "riscv64"),
}
# PEP 599's manylinux2014 aliases (pip before 20.3 knows only these names); riscv64
# came later and has the PEP 600 name only.
MANYLINUX2014 = {"x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x"}


def die(message):
    sys.exit(f"package: {message}")


def arch_binaries(specs):
    """ARCH=BINARY words -> [(arch, bytes)], in the order given."""
    result = []
    for spec in specs:
        arch, _, path = spec.partition("=")
        if arch not in ARCHES or not path:
            die(f"bad ARCH=BINARY '{spec}' (known architectures: {' '.join(ARCHES)})")
        with open(path, "rb") as f:
            result.append((arch, f.read()))
    if not result:
        die("no ARCH=BINARY given")
    return result


def read(path):
    with open(path, "rb") as f:
        return f.read()


def platform_tags(wheel_arch):
    tags = [f"manylinux_2_17_{wheel_arch}", f"musllinux_1_1_{wheel_arch}"]
    if wheel_arch in MANYLINUX2014:
        tags.append(f"manylinux2014_{wheel_arch}")
    return sorted(tags)


def zip_time(epoch):
    # A zip file cannot hold a time before 1980.
    return time.gmtime(max(epoch, 315532800))[:6]


def wheel_description(version):
    return f"""# pidone

A tiny, static init (PID 1) for containers: it runs your command as its child, forwards
every signal, reaps every zombie, stops the whole process tree on shutdown with a grace
period and a final SIGKILL, exits with the child's code, and answers health probes
(`pidone --probe http://127.0.0.1:${{PORT}}/health`). A drop-in for tini (`-s -g -p -e
-v -w`, `TINI_*`).

This wheel holds only the static binary (no Python code, no C library needed); pip and
uv install it as `bin/pidone` of the environment:

```sh
pip install pidone=={version}        # or: uv pip install pidone=={version}
pidone --version
```

In a Python image, install it in a build stage and copy it to `/init`:

```dockerfile
RUN python3 -m venv /venv && /venv/bin/pip install pidone=={version}
# ... in the runtime stage:
COPY --from=builder /venv/bin/pidone /init
ENTRYPOINT ["/init", "--"]
```

`pidone --help` lists the options; each has an `INIT_*` environment variable.
"""


def wheel(args):
    version = args.version
    license_text = read(args.license)
    sbom = read(args.sbom) if args.sbom else None
    when = zip_time(args.epoch)
    made = []
    for arch, binary in arch_binaries(args.binaries):
        wheel_arch = ARCHES[arch][1]
        if wheel_arch is None:
            print(f"package: no wheel for {arch}: PyPI has no platform tag for it")
            continue
        tags = platform_tags(wheel_arch)
        dist_info = f"pidone-{version}.dist-info"
        metadata = [
            "Metadata-Version: 2.4",
            "Name: pidone",
            f"Version: {version}",
            f"Summary: {args.summary}",
            "Keywords: init,pid1,container,docker,kubernetes,tini",
            "License-Expression: MIT",
            "License-File: LICENSE",
            "Classifier: Environment :: Console",
            "Classifier: Intended Audience :: System Administrators",
            "Classifier: Operating System :: POSIX :: Linux",
            "Classifier: Programming Language :: Rust",
            "Classifier: Topic :: System :: Boot :: Init",
        ]
        if args.repository:
            metadata.append(f"Project-URL: Source, {args.repository}")
        metadata.append("Description-Content-Type: text/markdown")
        metadata_bytes = ("\n".join(metadata) + "\n\n" + wheel_description(version)).encode()
        wheel_file = ["Wheel-Version: 1.0", "Generator: pidone scripts/package.py", "Root-Is-Purelib: false"]
        wheel_file += [f"Tag: py3-none-{t}" for t in tags]
        files = [(f"pidone-{version}.data/scripts/pidone", binary, 0o755)]
        files.append((f"{dist_info}/licenses/LICENSE", license_text, 0o644))
        if sbom is not None:
            files.append((f"{dist_info}/sboms/pidone.cdx.json", sbom, 0o644))
        files.append((f"{dist_info}/METADATA", metadata_bytes, 0o644))
        files.append((f"{dist_info}/WHEEL", ("\n".join(wheel_file) + "\n").encode(), 0o644))
        record = []
        for name, data, _ in files:
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{name},sha256={digest},{len(data)}")
        record.append(f"{dist_info}/RECORD,,")
        files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode(), 0o644))

        name = f"pidone-{version}-py3-none-{'.'.join(tags)}.whl"
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for path, data, mode in files:
                info = zipfile.ZipInfo(path, date_time=when)
                info.create_system = 3  # Unix: the mode below is read
                info.external_attr = (0o100000 | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data, compresslevel=9)
        with open(os.path.join(args.out, name), "wb") as f:
            f.write(buf.getvalue())
        made.append(name)
    for name in made:
        print(name)


# --- the man page -----------------------------------------------------------------------


def roff(text):
    """Plain text -> roff text: backslashes and hyphens escaped, no line starting a
    request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line[:1] in (".", "'") else line for line in text.split("\n"))


def man(args):
    with open(args.help_text, encoding="utf-8") as f:
        paragraphs = [p for p in f.read().strip("\n").split("\n\n") if p.strip()]
    head = " ".join(paragraphs[0].split())
    m = re.match(r"pidone: (.+?)\. (.+)$", head)
    if not m:
        die("man: --help does not start with 'pidone: <what it is>. <more>'")
    name_line, description = m.group(1), m.group(2)
    usage = [p for p in paragraphs if p.startswith("Usage:")]
    options = [p for p in paragraphs if p.startswith("Options")]
    if len(usage) != 1 or len(options) != 1:
        die("man: --help has no single 'Usage:' paragraph and 'Options' table")
    date = time.strftime("%Y-%m-%d", time.gmtime(args.epoch))
    out = [
        f'.TH PIDONE 1 "{date}" "pidone {args.version}" "User Commands"',
        ".nh",  # no hyphenation: INIT_* names stay whole
        ".ad l",
        ".SH NAME",
        f"pidone \\- {roff(name_line)}",
        ".SH SYNOPSIS",
    ]
    for line in usage[0].split("\n"):
        words = line.replace("Usage:", "", 1).split(None, 1)
        if not words or words[0] != "pidone":
            die(f"man: usage line without the program name: {line!r}")
        out += [f"\\fBpidone\\fR {roff(words[1]) if len(words) > 1 else ''}".rstrip(), ".br"]
    out[-1:] = [".SH DESCRIPTION", roff(description)]

    lines = options[0].split("\n")
    out += [".SH OPTIONS", roff(lines[0].rstrip(":") + ".")]
    # The description column: where the first option's text starts.
    first = re.match(r"(\s+-\S.*?\s{2,})\S", lines[1]) if len(lines) > 1 else None
    if not first:
        die("man: no option lines under 'Options'")
    col = len(first.group(1))
    for line in lines[1:]:
        if line[:col].strip():  # a new option: its flags, then its text
            out += [".TP", f"\\fB{roff(line[:col].strip())}\\fR", roff(line[col:].strip())]
        elif line.strip():  # the text goes on
            out.append(roff(line.strip()))

    notes = []
    for p in paragraphs:
        if p is paragraphs[0] or p in usage or p in options:
            continue
        if p.startswith("Exit codes:"):
            out += [".SH EXIT STATUS", roff(p[len("Exit codes:") :].strip())]
        else:
            notes.append(p)
    if notes:
        out += [".SH NOTES"]
        for i, p in enumerate(notes):
            out += ([".PP"] if i else []) + [roff(p).replace("\n", "\n.br\n")]
    out += [
        ".SH FILES",
        "In a container image the program is \\fB/init\\fR"
        ' (\\fBENTRYPOINT ["/init", "\\-\\-"]\\fR); installed on a system it is \\fBpidone\\fR.',
    ]
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


# --- the .debs --------------------------------------------------------------------------


def gzip9(data):
    buf = io.BytesIO()
    # No name and mtime 0 in the header: the same text gives the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as g:
        g.write(data)
    return buf.getvalue()


def copyright_file(license_text, repository, sbom_path):
    text = license_text.decode()
    holder = re.search(r"^Copyright \(c\) (.+)$", text, re.M)
    if not holder:
        die("deb: no 'Copyright (c) ...' line in the license")
    body = text.split(holder.group(0), 1)[1].strip()
    lines = [
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
        "Upstream-Name: pidone",
    ]
    if repository:
        lines.append(f"Source: {repository}")
    comment = [
        "The binary is statically linked with the Rust standard library (MIT or",
        "Apache-2.0), musl libc (MIT) and these crates, under the licenses their",
        "authors give (the SBOM of the release lists them with checksums):",
    ]
    if sbom_path:
        import json

        with open(sbom_path, encoding="utf-8") as f:
            for c in json.load(f).get("components", []):
                lic = " ".join(x.get("expression", "") for x in c.get("licenses", []))
                comment.append(f"{c['name']} {c['version']} ({lic})")
    lines.append("Comment: " + "\n ".join(comment))
    lines += ["", "Files: *", f"Copyright: {holder.group(1)}", "License: Expat"]
    lines.append("\n".join(" " + (line if line.strip() else ".") for line in body.split("\n")))
    return ("\n".join(lines) + "\n").encode()


def lintian_overrides(binary):
    """What lintian says of any static binary, and why each is so on purpose."""
    # e_type: a static-pie executable is ET_DYN (3), a plain static one ET_EXEC (2).
    e_type = int.from_bytes(binary[16:18], "little" if binary[5] == 1 else "big")
    why = (
        "# pidone is static on purpose: it is copied as /init into container images that\n"
        "# have no C library (scratch, distroless), and PID 1 must not depend on the\n"
        "# libraries of the image it runs in.\n"
    )
    if e_type == 3:
        return (
            why + "# It is a static-pie executable (ELF type DYN, no interpreter, no DT_NEEDED),\n"
            "# which lintian takes for a shared library without dependencies.\n"
            "pidone: shared-library-lacks-prerequisites [usr/bin/pidone]\n"
        ).encode()
    return (why + "pidone: statically-linked-binary [usr/bin/pidone]\n").encode()


def deb(args):
    if not shutil.which("dpkg-deb"):
        die("deb: dpkg-deb is needed (apt-get install dpkg)")
    version = args.version
    license_text = read(args.license)
    man_page = gzip9(read(args.man))
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(args.epoch))
    changelog = gzip9(
        (
            f"pidone ({version}) unstable; urgency=medium\n\n"
            f"  * pidone {version}, built by scripts/release from commit {args.revision[:12]}.\n"
            "    What changed is in the CHANGELOG.md of the source.\n\n"
            f" -- {args.maintainer}  {date}\n"
        ).encode()
    )
    copyright_bytes = copyright_file(license_text, args.repository, args.sbom)
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(args.epoch))
    made = []
    for arch, binary in arch_binaries(args.binaries):
        deb_arch = ARCHES[arch][0]
        files = {
            "usr/bin/pidone": (binary, 0o755),
            "usr/share/doc/pidone/changelog.gz": (changelog, 0o644),
            "usr/share/doc/pidone/copyright": (copyright_bytes, 0o644),
            "usr/share/lintian/overrides/pidone": (lintian_overrides(binary), 0o644),
            "usr/share/man/man1/pidone.1.gz": (man_page, 0o644),
        }
        size_kib = sum((len(d) + 1023) // 1024 for d, _ in files.values())
        control = [
            "Package: pidone",
            f"Version: {version}",
            f"Architecture: {deb_arch}",
            f"Maintainer: {args.maintainer}",
            f"Installed-Size: {size_kib}",
            "Section: admin",
            "Priority: optional",
        ]
        if args.repository:
            control.append(f"Homepage: {args.repository}")
        control += [
            f"Description: {args.summary_short}",
            " pidone runs a command as its child and does what PID 1 of a container must:",
            " it forwards every signal, reaps every zombie (orphaned grandchildren too),",
            " stops the whole process tree on shutdown with a grace period and a final",
            " SIGKILL, and exits with the child's exit code. It answers HTTP and TCP",
            " health probes itself, for images without a shell or curl, and takes tini's",
            " flags and TINI_* variables.",
            " .",
            " The binary is static (musl): copy /usr/bin/pidone into any image as /init.",
        ]
        md5sums = "".join(
            f"{hashlib.md5(data).hexdigest()}  {path}\n" for path, (data, _) in sorted(files.items())
        )
        with tempfile.TemporaryDirectory() as tmp:
            root = os.path.join(tmp, "root")
            meta = {
                "DEBIAN/control": (("\n".join(control) + "\n").encode(), 0o644),
                "DEBIAN/md5sums": (md5sums.encode(), 0o644),
            }
            for path, (data, mode) in sorted({**files, **meta}.items()):
                full = os.path.join(root, path)
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, "wb") as f:
                    f.write(data)
                os.chmod(full, mode)
            for dirpath, dirnames, filenames in os.walk(root):
                os.chmod(dirpath, 0o755)
                for n in dirnames + filenames:
                    os.utime(os.path.join(dirpath, n), (args.epoch, args.epoch), follow_symlinks=False)
            os.utime(root, (args.epoch, args.epoch))
            name = f"pidone_{version}_{deb_arch}.deb"
            subprocess.run(
                ["dpkg-deb", "--root-owner-group", "-Zxz", "-z9", "--build", root, os.path.join(args.out, name)],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
            )
        made.append(name)
    for name in made:
        print(name)


def main():
    parser = argparse.ArgumentParser(prog="package.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    w = sub.add_parser("wheel")
    w.add_argument("--out", required=True)
    w.add_argument("--version", required=True)
    w.add_argument("--epoch", type=int, required=True)
    w.add_argument("--license", required=True)
    w.add_argument("--summary", required=True)
    w.add_argument("--sbom")
    w.add_argument("--repository")
    w.add_argument("binaries", nargs="+", metavar="ARCH=BINARY")

    m = sub.add_parser("man")
    m.add_argument("--out", required=True)
    m.add_argument("--version", required=True)
    m.add_argument("--epoch", type=int, required=True)
    m.add_argument("--help-text", required=True)

    d = sub.add_parser("deb")
    d.add_argument("--out", required=True)
    d.add_argument("--version", required=True)
    d.add_argument("--revision", required=True)
    d.add_argument("--epoch", type=int, required=True)
    d.add_argument("--license", required=True)
    d.add_argument("--man", required=True)
    d.add_argument("--maintainer", required=True)
    d.add_argument("--summary-short", required=True)
    d.add_argument("--repository")
    d.add_argument("--sbom")
    d.add_argument("binaries", nargs="+", metavar="ARCH=BINARY")

    args = parser.parse_args()
    if getattr(args, "repository", None) == "":
        args.repository = None
    try:
        {"wheel": wheel, "man": man, "deb": deb}[args.command](args)
    except (OSError, subprocess.CalledProcessError) as e:
        die(f"{args.command}: {e}")


if __name__ == "__main__":
    main()
