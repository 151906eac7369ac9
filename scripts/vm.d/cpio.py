#!/usr/bin/env python3
"""Writes a reproducible initramfs: a cpio archive in the kernel's "newc" format.

    cpio.py OUT < SPEC

SPEC has one entry a line, fields separated by tabs:

    dir    PATH  MODE
    file   PATH  MODE  SRC          (the content of the host file SRC)
    slink  PATH  MODE  TARGET
    nod    PATH  MODE  c|b  MAJOR  MINOR

PATH is relative to the archive's root (no leading slash), MODE octal permission bits.
Every entry is owned by 0:0 with mtime 0, inodes are numbered in path order, parents are
added (0755) where missing and entries are written sorted by path, so the same SPEC and
the same file contents always give the same bytes, whoever builds it and wherever. A path
given twice keeps its last entry. Nothing is read from the host but the SRC files: no
owner, time or permission of theirs gets in, and device nodes need no root.
"""
import stat
import sys

TYPES = {"dir": stat.S_IFDIR, "file": stat.S_IFREG, "slink": stat.S_IFLNK}


def parse(lines):
    entries = {}
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        if not line.strip():
            continue
        fields = line.split("\t")
        kind, path = fields[0], fields[1].strip("/") if len(fields) > 1 else ""
        want = {"dir": 3, "file": 4, "slink": 4, "nod": 6}.get(kind)
        if want is None or len(fields) != want or not path or ".." in path.split("/"):
            sys.exit(f"cpio.py: spec line {number}: cannot read {line!r}")
        mode = int(fields[2], 8) & 0o7777
        if kind == "file":
            with open(fields[3], "rb") as f:
                entries[path] = (stat.S_IFREG | mode, f.read(), 0, 0)
        elif kind == "slink":
            entries[path] = (stat.S_IFLNK | mode, fields[3].encode(), 0, 0)
        elif kind == "nod":
            kind_bit = {"c": stat.S_IFCHR, "b": stat.S_IFBLK}.get(fields[3])
            if kind_bit is None:
                sys.exit(f"cpio.py: spec line {number}: node type must be c or b")
            entries[path] = (kind_bit | mode, b"", int(fields[4]), int(fields[5]))
        else:
            entries[path] = (TYPES[kind] | mode, b"", 0, 0)
    # Every parent directory exists before what is in it (the kernel's unpacker creates
    # no missing parent).
    for path in list(entries):
        parts = path.split("/")
        for i in range(1, len(parts)):
            entries.setdefault("/".join(parts[:i]), (stat.S_IFDIR | 0o755, b"", 0, 0))
    return entries


def pad(n):
    return b"\0" * (-n % 4)


def header(ino, mode, size, rmajor, rminor, name):
    nlink = 2 if stat.S_ISDIR(mode) else 1
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, rmajor, rminor, len(name) + 1, 0]
    head = b"070701" + b"".join(b"%08X" % v for v in fields) + name + b"\0"
    return head + pad(len(head))


def write(out, entries):
    with open(out, "wb") as f:
        for ino, path in enumerate(sorted(entries), 1):
            mode, data, rmajor, rminor = entries[path]
            f.write(header(ino, mode, len(data), rmajor, rminor, path.encode()))
            f.write(data + pad(len(data)))
        f.write(header(0, 0, 0, 0, 0, b"TRAILER!!!"))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: cpio.py OUT < SPEC")
    write(sys.argv[1], parse(sys.stdin))


if __name__ == "__main__":
    main()
