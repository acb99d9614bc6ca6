"""Charts drawn on the server as SVG shapes: the template places them, no script and no inline style."""
from __future__ import annotations

from typing import Any

WIDTH, HEIGHT, MARGIN = 560, 220, 32  # the drawing's size and the room left for the axis labels


def daily_bars(daily: list[dict[str, Any]]) -> dict[str, Any]:
    """Stacked bars of each day's windows: done at the bottom, missed on top, scaled to the busiest day."""
    peak = max((day["done"] + day["missed"] for day in daily), default=0) or 1
    base = HEIGHT - MARGIN
    slot = (WIDTH - MARGIN) / max(len(daily), 1)
    bars = []
    for index, day in enumerate(daily):
        done_h = (base - MARGIN / 2) * day["done"] / peak
        missed_h = (base - MARGIN / 2) * day["missed"] / peak
        x = MARGIN + index * slot + slot * 0.2
        bars.append({"date": day["date"], "label": day["date"][5:], "x": round(x, 1), "width": round(slot * 0.6, 1),
                     "centre": round(x + slot * 0.3, 1), "done": day["done"], "missed": day["missed"],
                     "done_y": round(base - done_h, 1), "done_h": round(done_h, 1),
                     "missed_y": round(base - done_h - missed_h, 1), "missed_h": round(missed_h, 1)})
    return {"width": WIDTH, "height": HEIGHT, "base": base, "left": MARGIN, "top": MARGIN / 2, "peak": peak,
            "bars": bars}


def trend_line(trend: list[dict[str, Any]]) -> dict[str, Any]:
    """The on-time rate of the weeks as a line on 0–100 %; a week with nothing due leaves a gap."""
    base = HEIGHT - MARGIN
    slot = (WIDTH - MARGIN) / max(len(trend), 1)
    points = []
    for index, week in enumerate(trend):
        x = round(MARGIN + index * slot + slot / 2, 1)
        rate = week["on_time_rate"]
        y = None if rate is None else round(base - (base - MARGIN / 2) * rate, 1)
        points.append({"week": week["week"], "label": week["week"][5:], "x": x, "y": y, "rate": rate})
    drawn = [p for p in points if p["y"] is not None]
    return {"width": WIDTH, "height": HEIGHT, "base": base, "left": MARGIN, "top": MARGIN / 2,
            "points": points, "line": " ".join(f"{p['x']},{p['y']}" for p in drawn)}
