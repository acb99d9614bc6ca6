"""The app's third-party assets: jsQR (reads the station's code from the camera) and qrcode-generator
(draws the Traccar Client set-up code), fetched from npm by ``make vendor`` (see ``vendoring``)."""
from __future__ import annotations

import sys
from pathlib import Path

from .. import vendoring

VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"
MANIFEST = VENDOR_DIR / "manifest.json"

# npm package -> (pinned version, files taken from the tarball's package/ folder, folder under vendor/)
PACKAGES = {
    "jsqr": ("1.4.0", ("dist/jsQR.js", "LICENSE"), "jsqr"),
    "qrcode-generator": ("1.4.4", ("qrcode.js", "README.md"), "qrcode"),
}


def refresh() -> dict:
    """Fetch the pinned packages with ``npm pack`` and rewrite the files and the manifest."""
    return vendoring.refresh(PACKAGES, VENDOR_DIR)


def verify() -> list[str]:
    """Return the problems with the vendored files: missing, changed, or not in the manifest."""
    return vendoring.verify(VENDOR_DIR, MANIFEST)


if __name__ == "__main__":
    sys.exit(vendoring.main(PACKAGES, VENDOR_DIR, MANIFEST))
