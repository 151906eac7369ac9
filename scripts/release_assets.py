#!/usr/bin/env python3
"""Release assets that need no compiler: the OCI image archive and the SBOM.

  release_assets.py image --out FILE --license FILE --version V --revision REV
                          --epoch SECONDS ARCH=BINARY...
      Writes an OCI image layout as a tar archive (what `skopeo copy oci-archive:FILE`
      and `podman load` read): an image index over one image per architecture, each
      FROM scratch with /init (0755) and /LICENSE (0644) in a single uncompressed layer,
      entrypoint ["/init"], default command ["--version"]. Every byte is a function of
      the inputs: sorted tar entries, uid/gid 0, mtimes = --epoch, canonical JSON, no
      compression (gzip output may differ between zlib versions).

  release_assets.py sbom --out FILE --version V --epoch SECONDS --lock Cargo.lock
                         CRATE|VERSION|LICENSE...
      Writes a CycloneDX 1.5 JSON SBOM: init and every crate linked into it (the lines of
      `cargo tree -e normal -f '{p}|{l}'`), with Cargo.lock's sha256 checksums and purls.

Standard library only.
"""

import hashlib
import io
import json
import sys
import tarfile
import time
import uuid

# Debian's architecture names (the release files' suffixes) -> OCI platform
# (architecture, variant), as Docker's TARGETARCH/TARGETVARIANT name them.
PLATFORM = {
    "amd64": ("amd64", None),
    "arm64": ("arm64", "v8"),
    "i386": ("386", None),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v5"),
    "ppc64el": ("ppc64le", None),
    "s390x": ("s390x", None),
    "riscv64": ("riscv64", None),
}

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar"


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def tar_bytes(entries, epoch):
    """entries: (name, bytes, mode), in the order given (bytes None: a directory); a
    USTAR tar with fixed metadata."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.mode = mode
            info.mtime = epoch
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.type = tarfile.REGTYPE
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def arg(argv, name):
    i = argv.index(name)
    value = argv[i + 1]
    del argv[i : i + 2]
    return value


def image(argv):
    out = arg(argv, "--out")
    license_text = open(arg(argv, "--license"), "rb").read()
    version = arg(argv, "--version")
    revision = arg(argv, "--revision")
    epoch = int(arg(argv, "--epoch"))
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
    labels = {
        "org.opencontainers.image.title": "pidone",
        "org.opencontainers.image.description": "A tiny static PID 1 for containers: COPY --from this image /init /init",
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.licenses": "MIT",
        "org.opencontainers.image.created": created,
    }
    blobs = {}

    def blob(data):
        digest = sha(data)
        blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    manifests = []
    for spec in argv:
        arch, _, path = spec.partition("=")
        if arch not in PLATFORM or not path:
            sys.exit(f"release_assets: image: bad ARCH=BINARY '{spec}' (known: {' '.join(PLATFORM)})")
        architecture, variant = PLATFORM[arch]
        binary = open(path, "rb").read()
        layer = tar_bytes([("LICENSE", license_text, 0o644), ("init", binary, 0o755)], epoch)
        config = {
            "architecture": architecture,
            "os": "linux",
            "created": created,
            "config": {"Entrypoint": ["/init"], "Cmd": ["--version"], "Labels": labels},
            "rootfs": {"type": "layers", "diff_ids": [sha(layer)]},
            "history": [{"created": created, "created_by": "scripts/release: /init and /LICENSE"}],
        }
        if variant:
            config["variant"] = variant
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {"mediaType": CONFIG, **blob(canonical(config))},
            "layers": [{"mediaType": LAYER, **blob(layer)}],
            "annotations": labels,
        }
        platform = {"architecture": architecture, "os": "linux"}
        if variant:
            platform["variant"] = variant
        manifests.append({"mediaType": MANIFEST, **blob(canonical(manifest)), "platform": platform})

    if not manifests:
        sys.exit("release_assets: image: no ARCH=BINARY given")
    index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests, "annotations": labels}
    top = {
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": [
            {
                "mediaType": INDEX,
                **blob(canonical(index)),
                "annotations": {"org.opencontainers.image.ref.name": "pidone:" + version},
            }
        ],
    }
    entries = [("oci-layout", canonical({"imageLayoutVersion": "1.0.0"}), 0o644)]
    entries.append(("index.json", canonical(top), 0o644))
    entries += [("blobs", None, 0o755), ("blobs/sha256", None, 0o755)]
    for digest in sorted(blobs):
        entries.append(("blobs/sha256/" + digest.split(":", 1)[1], blobs[digest], 0o644))
    data = tar_bytes(entries, epoch)
    with open(out, "wb") as f:
        f.write(data)


def lock_checksums(path):
    sums, name, version = {}, None, None
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line == "[[package]]":
            name = version = None
        elif line.startswith("[") or '"' not in line:
            continue
        elif line.startswith("name = "):
            name = line.split('"')[1]
        elif line.startswith("version = "):
            version = line.split('"')[1]
        elif line.startswith("checksum = ") and name and version:
            sums[(name, version)] = line.split('"')[1]
    return sums


def sbom(argv):
    out = arg(argv, "--out")
    version = arg(argv, "--version")
    epoch = int(arg(argv, "--epoch"))
    sums = lock_checksums(arg(argv, "--lock"))
    components = []
    for line in sorted(set(argv)):
        pkg, _, lic = line.partition("|")
        words = pkg.split()
        if len(words) < 2 or not words[1].startswith("v"):
            sys.exit(f"release_assets: sbom: bad crate line '{line}'")
        name, ver = words[0], words[1][1:]
        if name == "pidone":
            continue
        comp = {
            "type": "library",
            "bom-ref": f"pkg:cargo/{name}@{ver}",
            "name": name,
            "version": ver,
            "purl": f"pkg:cargo/{name}@{ver}",
            "licenses": [{"expression": lic}] if lic else [],
        }
        if (name, ver) in sums:
            comp["hashes"] = [{"alg": "SHA-256", "content": sums[(name, ver)]}]
        components.append(comp)
    body = {
        "metadata": {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)),
            "component": {
                "type": "application",
                "bom-ref": f"pkg:cargo/pidone@{version}",
                "name": "pidone",
                "version": version,
                "purl": f"pkg:cargo/pidone@{version}",
                "licenses": [{"expression": "MIT"}],
            },
        },
        "components": components,
        "dependencies": [
            {"ref": f"pkg:cargo/pidone@{version}", "dependsOn": [c["bom-ref"] for c in components]}
        ],
    }
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        # Derived from the content, so the same inputs give the same file.
        "serialNumber": "urn:uuid:" + str(uuid.UUID(hashlib.sha256(canonical(body)).hexdigest()[:32])),
        "version": 1,
        **body,
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")


def main():
    argv = sys.argv[1:]
    if not argv or argv[0] not in ("image", "sbom"):
        sys.exit(__doc__)
    try:
        {"image": image, "sbom": sbom}[argv[0]](argv[1:])
    except (ValueError, IndexError) as e:
        sys.exit(f"release_assets: {argv[0]}: missing or bad option ({e})")


if __name__ == "__main__":
    main()
