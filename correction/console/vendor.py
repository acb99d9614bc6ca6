"""The console's third-party assets: fetched from npm by ``make vendor``, checked against their manifest.

Offices run on closed networks, so the console loads nothing from outside the service: htmx and
Leaflet are committed under ``static/vendor`` with ``manifest.json`` (name, version, licence and
the sha256 of every file). ``python -m correction.console.vendor`` fetches the pinned packages
with ``npm pack`` and rewrites the files and the manifest; ``verify()`` (a test) checks that the
committed files are the ones the manifest names. Standard library only: it runs before anything
is installed.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"
MANIFEST = VENDOR_DIR / "manifest.json"

# npm package -> (pinned version, files taken from the tarball's package/ folder, folder under vendor/)
PACKAGES = {
    "htmx.org": ("2.0.11", ("dist/htmx.min.js", "LICENSE"), "htmx"),
    "leaflet": ("1.9.4", ("dist/leaflet.js", "dist/leaflet.css", "dist/images/layers.png",
                          "dist/images/layers-2x.png", "dist/images/marker-icon.png",
                          "dist/images/marker-icon-2x.png", "dist/images/marker-shadow.png", "LICENSE"),
                "leaflet"),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refresh(packages: dict = PACKAGES) -> dict:
    """Fetch each pinned package with ``npm pack``, copy its files here and write the manifest."""
    entries = []
    with tempfile.TemporaryDirectory() as work:
        for name, (version, files, folder) in packages.items():
            out = subprocess.run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=work, check=True,
                                 capture_output=True, text=True).stdout.split()[-1]
            with tarfile.open(Path(work) / out) as tar:
                meta = json.load(tar.extractfile("package/package.json"))
                target = VENDOR_DIR / folder
                for file in files:
                    data = tar.extractfile(f"package/{file}").read()
                    dest = target / Path(file).relative_to("dist") if file.startswith("dist/") else target / file
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(data)
            entries.append({"name": name, "version": meta["version"], "license": meta["license"],
                            "files": {str(p.relative_to(VENDOR_DIR)): sha256(p)
                                      for p in sorted((VENDOR_DIR / folder).rglob("*")) if p.is_file()}})
    manifest = {"source": "npm registry (npm pack)", "packages": entries}
    MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def verify() -> list[str]:
    """Return the problems with the vendored files: missing, changed, or not in the manifest."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    listed: dict[str, str] = {}
    for package in manifest["packages"]:
        listed.update(package["files"])
    problems = []
    for name, digest in listed.items():
        path = VENDOR_DIR / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256(path) != digest:
            problems.append(f"{name}: sha256 differs from the manifest")
    present = {str(p.relative_to(VENDOR_DIR)) for p in VENDOR_DIR.rglob("*") if p.is_file() and p != MANIFEST}
    problems += [f"{name}: not in the manifest" for name in sorted(present - set(listed))]
    return problems


if __name__ == "__main__":
    refresh()
    problems = verify()
    print("\n".join(problems) or f"vendored assets refreshed: {MANIFEST}")
    sys.exit(1 if problems else 0)
