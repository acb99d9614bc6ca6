"""Draw the app's icons (the web manifest's 192 and 512 px PNGs, a maskable one, the Apple touch icon).

``python -m correction.mobile.icons`` writes them to ``static/icons``; they are committed, so the
service needs no image library at run time. A plain mark: a white check on the service's blue.
"""
from __future__ import annotations

from pathlib import Path

ICON_DIR = Path(__file__).resolve().parent / "static" / "icons"
BLUE, WHITE = (21, 94, 160), (255, 255, 255)
# file name -> (size in px, maskable: the mark kept inside the safe zone, a circle of 40 % radius)
ICONS = {"icon-192.png": (192, False), "icon-512.png": (512, False), "maskable-512.png": (512, True),
         "apple-touch-icon.png": (180, False)}


def draw(size: int, maskable: bool):
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), BLUE)
    pen = ImageDraw.Draw(image)
    scale = size * (0.6 if maskable else 0.8)
    left, top = (size - scale) / 2, (size - scale) / 2
    points = [(left + scale * x, top + scale * y) for x, y in ((0.15, 0.55), (0.4, 0.8), (0.85, 0.25))]
    pen.line(points, fill=WHITE, width=max(4, int(scale * 0.12)), joint="curve")
    return image


def write_all(folder: Path = ICON_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (size, maskable) in ICONS.items():
        draw(size, maskable).save(folder / name, optimize=True)
        written.append(folder / name)
    return written


if __name__ == "__main__":
    print("\n".join(str(p) for p in write_all()))
