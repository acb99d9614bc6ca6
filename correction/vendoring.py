"""Third-party browser assets fetched from npm and checked against a manifest (console and app alike).

Offices run on closed networks, so pages load nothing from outside the service: each package that
ships browser code commits its vendored files under ``static/vendor`` with ``manifest.json`` (name,
version, licence and the sha256 of every file). ``refresh`` fetches the pinned packages with
``npm pack`` and rewrites the files and the manifest; ``verify`` (a test) checks that the committed
files are the ones the manifest names. Standard library only: it runs before anything is installed.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refresh(packages: dict, vendor_dir: Path) -> dict:
    """Fetch each pinned package with ``npm pack``, copy its files to ``vendor_dir`` and write the manifest.

    ``packages`` maps an npm name to (pinned version, files of its tarball's package/ folder, folder
    under ``vendor_dir``); a file under ``dist/`` lands without that prefix.
    """
    entries = []
    with tempfile.TemporaryDirectory() as work:
        for name, (version, files, folder) in packages.items():
            out = subprocess.run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=work, check=True,
                                 capture_output=True, text=True).stdout.split()[-1]
            with tarfile.open(Path(work) / out) as tar:
                meta = json.load(tar.extractfile("package/package.json"))
                target = vendor_dir / folder
                for file in files:
                    data = tar.extractfile(f"package/{file}").read()
                    dest = target / Path(file).relative_to("dist") if file.startswith("dist/") else target / file
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(data)
            entries.append({"name": name, "version": meta["version"], "license": meta["license"],
                            "files": {str(p.relative_to(vendor_dir)): sha256(p)
                                      for p in sorted((vendor_dir / folder).rglob("*")) if p.is_file()}})
    manifest = {"source": "npm registry (npm pack)", "packages": entries}
    (vendor_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
    return manifest


def verify(vendor_dir: Path, manifest_path: Path) -> list[str]:
    """Return the problems with the vendored files: missing, changed, or not in the manifest."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    listed: dict[str, str] = {}
    for package in manifest["packages"]:
        listed.update(package["files"])
    problems = []
    for name, digest in listed.items():
        path = vendor_dir / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256(path) != digest:
            problems.append(f"{name}: sha256 differs from the manifest")
    present = {str(p.relative_to(vendor_dir)) for p in vendor_dir.rglob("*") if p.is_file() and p != manifest_path}
    problems += [f"{name}: not in the manifest" for name in sorted(present - set(listed))]
    return problems


def main(packages: dict, vendor_dir: Path, manifest_path: Path) -> int:
    """``make vendor`` for one package's assets: refresh them, verify them, say so; the exit status."""
    refresh(packages, vendor_dir)
    problems = verify(vendor_dir, manifest_path)
    print("\n".join(problems) or f"vendored assets refreshed: {manifest_path}")
    return 1 if problems else 0
