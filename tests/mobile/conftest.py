"""The app in a phone: Chromium launched once with a fake camera, a phone-sized context per test.

The camera shows whatever ``show_on_camera`` last wrote to the session's .y4m file: Chromium reads
the file each time the app opens the camera (see tests/browser.py for the browser in general).
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.browser import launch, open_page
from tests.factories import STATION

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}
SIDE = 320  # the fake camera's frame, in pixels


def write_y4m(path: Path, png: bytes | None, frames: int = 5) -> None:
    """A YUV4MPEG2 video of ``png`` (greyscale, centred on white; blank without one) for Chromium's fake camera.

    Each frame is ``FRAME\\n``, the Y plane (the grey levels) and the U and V planes at half
    resolution, all 128 (no colour).
    """
    canvas = Image.new("L", (SIDE, SIDE), 255)
    if png is not None:
        picture = Image.open(io.BytesIO(png)).convert("L")
        picture.thumbnail((SIDE - 20, SIDE - 20), Image.NEAREST)
        canvas.paste(picture, ((SIDE - picture.width) // 2, (SIDE - picture.height) // 2))
    luma = np.asarray(canvas, dtype=np.uint8).tobytes()
    chroma = bytes([128]) * (2 * (SIDE // 2) ** 2)
    frame = b"FRAME\n" + luma + chroma
    path.write_bytes(f"YUV4MPEG2 W{SIDE} H{SIDE} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * frames)


@pytest.fixture(scope="session")
def camera_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("camera") / "camera.y4m"
    write_y4m(path, None)
    return path


@pytest.fixture(scope="session")
def phone_browser(playwright, camera_file):
    """Chromium whose camera is the video in ``camera_file`` (its own launch: the flags are per browser)."""
    browser = launch(playwright, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                     f"--use-file-for-fake-video-capture={camera_file}")
    yield browser
    browser.close()


@pytest.fixture
def show_on_camera(camera_file):
    """Put a PNG in front of the phone's camera."""
    return lambda png: write_y4m(camera_file, png)


@pytest.fixture
def position() -> tuple[float, float]:
    """Where the phone is: at the factory's station unless a test says otherwise."""
    return STATION


@pytest.fixture
def phone(phone_browser, live_server, clock, position, request, pytestconfig):
    """A page of the app's origin in a phone: Chinese, geolocation and camera allowed, the phone's
    clock (Date.now) set to the test's clock (move it with ``set_phone_time``)."""
    context = phone_browser.new_context(
        base_url=live_server, locale="zh-CN", timezone_id="Asia/Shanghai", permissions=["geolocation", "camera"],
        geolocation={"latitude": position[0], "longitude": position[1], "accuracy": 8}, **PHONE)
    context.clock.set_fixed_time(clock())
    yield from open_page(context, request, pytestconfig)
