"""Rotating station QR codes: an HMAC over (station, time step), RFC 6238 style.

The text a station's screen encodes is ``CQ1.<station id>.<step>.<signature>``; the
signature is the first 128 bits of HMAC-SHA256(station secret, "<station id>.<step>"),
base64url. The current step and QR_PREVIOUS_STEPS before it are accepted.
"""
from __future__ import annotations

import base64
import io
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

import qrcode
from qrcode.constants import ERROR_CORRECT_M

from ..time import UTC

# Dark enough for any phone camera to read on white. Status codes use the first three.
COLOURS = {"green": (0, 140, 60), "yellow": (190, 130, 0), "red": (200, 0, 0), "black": (0, 0, 0)}
_TOKEN = re.compile(r"^CQ1\.([1-9][0-9]{0,17})\.([0-9]{1,12})\.([A-Za-z0-9_\-]{22})$")


@dataclass(frozen=True)
class StationCode:
    station_id: int
    step: int
    signature: str


class QrRefused(Exception):
    """The QR text does not prove presence at the station now."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def step_at(at: datetime, step_seconds: int) -> int:
    """Return the time step that ``at`` falls in."""
    return int(at.timestamp()) // step_seconds


def signature(secret: str, station_id: int, step: int) -> str:
    mac = hmac.new(secret.encode(), f"{station_id}.{step}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:16]).decode().rstrip("=")


def station_token(secret: str, station_id: int, at: datetime, step_seconds: int) -> tuple[str, datetime]:
    """Return the text to show at ``at`` and the moment the screen should show the next one."""
    step = step_at(at, step_seconds)
    expires = datetime.fromtimestamp((step + 1) * step_seconds, UTC)
    return f"CQ1.{station_id}.{step}.{signature(secret, station_id, step)}", expires


def parse(text: str) -> StationCode:
    """Read a QR text; QrRefused(qr_invalid) if it is not one of ours."""
    match = _TOKEN.match(text.strip())
    if not match:
        raise QrRefused("qr_invalid", "This is not a station check-in code.")
    return StationCode(int(match.group(1)), int(match.group(2)), match.group(3))


def verify(code: StationCode, secret: str, at: datetime, step_seconds: int, previous_steps: int) -> None:
    """Accept a parsed code for its station at ``at``, or raise QrRefused."""
    if not hmac.compare_digest(code.signature, signature(secret, code.station_id, code.step)):
        raise QrRefused("qr_invalid", "This station code is not genuine.")
    current = step_at(at, step_seconds)
    if code.step > current + 1:  # one step of clock skew between the screen and the server
        raise QrRefused("qr_invalid", "This station code is not valid yet.")
    if code.step < current - previous_steps:
        raise QrRefused("qr_expired", "This station code has expired; scan the screen again.")


def render_qr(text: str, colour: str) -> bytes:
    """Return a PNG QR code of ``text`` drawn in ``colour`` (a status colour, or black)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(text)
    code.make(fit=True)
    image = code.make_image(fill_color=COLOURS[colour], back_color=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
