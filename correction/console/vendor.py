"""The console's third-party assets: htmx and Leaflet, fetched from npm by ``make vendor`` (see ``vendoring``).

``python -m correction.console.vendor`` fetches the pinned packages again and rewrites
``static/vendor`` and its manifest; ``verify()`` (a test) checks the committed files.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .. import vendoring

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


def refresh() -> dict:
    """Fetch the pinned packages with ``npm pack`` and rewrite the files and the manifest."""
    return vendoring.refresh(PACKAGES, VENDOR_DIR)


def verify() -> list[str]:
    """Return the problems with the vendored files: missing, changed, or not in the manifest."""
    return vendoring.verify(VENDOR_DIR, MANIFEST)


if __name__ == "__main__":
    sys.exit(vendoring.main(PACKAGES, VENDOR_DIR, MANIFEST))
