"""What the console ships: the vendored assets its manifest names, and a translation of every string."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from correction.console import vendor

CONSOLE = Path(vendor.__file__).parent
CATALOG = CONSOLE / "translations" / "zh_Hans_CN" / "LC_MESSAGES"


def test_the_vendored_files_are_the_ones_the_manifest_names():
    assert vendor.verify() == []
    manifest = {p["name"]: p for p in __import__("json").loads(vendor.MANIFEST.read_text())["packages"]}
    assert manifest["htmx.org"]["version"].startswith("2.0.") and manifest["htmx.org"]["license"] == "0BSD"
    assert manifest["leaflet"]["version"] == "1.9.4" and manifest["leaflet"]["license"] == "BSD-2-Clause"


def test_a_changed_vendored_file_is_caught(tmp_path, monkeypatch):
    copy = tmp_path / "vendor"
    copy.mkdir()
    for path in vendor.VENDOR_DIR.rglob("*"):
        if path.is_file():
            target = copy / path.relative_to(vendor.VENDOR_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    (copy / "htmx" / "htmx.min.js").write_bytes(b"alert(1)")
    (copy / "extra.js").write_bytes(b"")
    monkeypatch.setattr(vendor, "VENDOR_DIR", copy)
    monkeypatch.setattr(vendor, "MANIFEST", copy / "manifest.json")
    assert vendor.verify() == ["htmx/htmx.min.js: sha256 differs from the manifest", "extra.js: not in the manifest"]


def _console_strings() -> set[str]:
    with open(CONSOLE / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    return {message[2] if isinstance(message[2], str) else message[2][0]
            for message in extract_from_dir(str(CONSOLE), method_map, options_map)}


def test_every_console_string_has_a_chinese_translation():
    with open(CATALOG / "messages.po", "rb") as po:
        catalog = read_po(po)
    strings = _console_strings()
    assert len(strings) > 50
    untranslated = sorted(s for s in strings if not catalog.get(s) or not catalog.get(s).string
                          or catalog.get(s).fuzzy)
    assert untranslated == [], "run `make translations` and translate these in messages.po"


def test_the_compiled_catalog_matches_its_source():
    with open(CATALOG / "messages.po", "rb") as po, open(CATALOG / "messages.mo", "rb") as mo:
        source, compiled = read_po(po), read_mo(mo)
    assert {m.id: m.string for m in source if m.id} == {m.id: m.string for m in compiled if m.id}, \
        "run `make translations` (pybabel compile) and commit messages.mo"
