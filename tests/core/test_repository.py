"""The repository stands alone: no tracked file reads or names a path outside it.

A clone has nothing beside it, so code, tests, docs and scripts may only point inside the
repository: no absolute paths of our machines, no relative path climbing out of the root, no
``Path(__file__).parents[n]`` or ``.parent`` chain reaching above it. Every tracked text file is
read (``git ls-files``); binary files are skipped. The forbidden strings below are built by
concatenation so that this file does not name them itself.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[2]
UP = "." + "."
# Absolute directories of the machines this project is developed on, never in a clone.
MACHINE_DIRS = ["work", "home", "root", "Users"]
# A path literal starts at the beginning of a line or after a quote, bracket, space or '='; a
# component in the middle of a URL or a path (``/docs/static/../x``) is not a path of the machine.
STARTS_A_PATH = r"(?:^|(?<=[\s\"'`(\[=:,]))"
ABSOLUTE = re.compile(STARTS_A_PATH + "/(?:" + "|".join(MACHINE_DIRS) + ")/")
CLIMB = re.compile(STARTS_A_PATH + r"((?:\.\./)+)([\w.-]*)")
PARENTS_INDEX = re.compile(r"__file__\)(?:\.resolve\(\)|\.absolute\(\))?\.parents\[(\d+)\]")
PARENT_CHAIN = re.compile(r"__file__\)(?:\.resolve\(\)|\.absolute\(\))?((?:\.parent\b)+)")
UP_COMPONENT = re.compile("[\"']" + re.escape(UP) + "[\"']")
DIRNAME = re.compile(r"\bdirname\(")


def tracked_text_files() -> list[tuple[str, str]]:
    """(path, text) of every tracked file that is text."""
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    found = []
    for name in filter(None, listing.decode().split("\0")):
        path = ROOT / name
        if not path.is_file():  # deleted in the work tree but still in the index
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue
        try:
            found.append((name, data.decode("utf-8")))
        except UnicodeDecodeError:
            continue
    return found


def depth(name: str) -> int:
    """How many directories the file is below the root: how far up it may climb and stay inside."""
    return len(PurePosixPath(name).parts) - 1


def outside_references(name: str, text: str) -> list[str]:
    """Every line of ``text`` (the file ``name``) that names a path outside the repository."""
    allowed = depth(name)
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        reasons = []
        if ABSOLUTE.search(line):
            reasons.append("an absolute path of a machine")
        for climb in CLIMB.finditer(line):
            levels, first = len(climb.group(1)) // 3, climb.group(2)
            if levels > allowed:
                reasons.append(f"a relative path climbing more than {allowed} level(s), out of the root")
            elif first and not (ROOT / name).parents[levels].joinpath(first).exists():
                reasons.append(f"a relative path to {first!r}, which is not in the repository")
        if "__file__" in line:
            levels = [int(m.group(1)) for m in PARENTS_INDEX.finditer(line)]
            levels += [m.group(1).count(".parent") - 1 for m in PARENT_CHAIN.finditer(line)]
            if DIRNAME.search(line):
                levels.append(len(DIRNAME.findall(line)) - 1 + len(UP_COMPONENT.findall(line)))
            if any(level > allowed for level in levels):
                reasons.append("a directory above the root, reached from __file__")
        if reasons:
            found.append(f"{name}:{number}: {', '.join(reasons)}: {line.strip()}")
    return found


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                    reason="not a git checkout: there is no list of tracked files")
def test_no_tracked_file_names_a_path_outside_the_repository():
    files = tracked_text_files()
    assert files, "git lists no tracked text files"
    offending = [line for name, text in files for line in outside_references(name, text)]
    assert not offending, "paths outside the repository:\n" + "\n".join(offending)


@pytest.mark.parametrize("name, line", [
    ("README.md", "The contract: `" + UP + "/shared/DESIGN.md`."),
    ("tests/x/test_y.py", 'FIXTURES = Path(__file__).resolve().parents' + '[3] / "shared" / "fixtures"'),
    ("tests/x/test_y.py", 'FIXTURES = Path(__file__)' + '.parent' * 4 + ' / "shared"'),
    ("tests/x/test_y.py", 'FIXTURES = "/' + 'work/shared/fixtures/clients"'),
    ("tests/x/test_y.py", 'here = os.path.join(os.path.dirname(__file__), "' + UP + '", "' + UP + '", "' + UP + '")'),
    ("docs/notes.md", "see [the design](" + UP + "/" + UP + "/shared/DESIGN.md)"),
    ("Makefile", "\tcp " + UP + "/shared/x.json instance/"),
    ("tests/fixtures/clients/README.md", "load them from `" + UP + "/shared/fixtures/clients/` in tests"),
])
def test_the_check_finds_paths_outside(name, line):
    assert outside_references(name, line + "\n")


@pytest.mark.parametrize("name, line", [
    ("correction/__init__.py", 'return Path(__file__).resolve().parent.parent / "migrations"'),
    ("tests/locations/test_fixes.py", 'FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "clients"'),
    ("tests/locations/test_fixes.py", 'ROOT = Path(__file__).resolve().parents[2]'),
    ("correction/mall/views.py", "from " + UP + "people.models import Supervisee"),
    ("correction/mall/views.py", "from . import points"),
    ("tests/core/test_openapi.py", 'client.get(f"{API}/docs/static/' + UP + '/' + UP + '/openapi.py")'),
    ("docs/decisions.md", "see [the tests](" + UP + "/tests/core/test_repository.py)"),
    ("README.md", "workers share /api/v1/work/ and network/ paths"),
])
def test_the_check_leaves_paths_inside_alone(name, line):
    assert outside_references(name, line + "\n") == []
