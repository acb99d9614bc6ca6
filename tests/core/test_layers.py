"""The layers hold: the import contract is kept and has teeth; serving loads no tool."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
TOOLS = ("correction.tools.seed", "correction.tools.simulation", "correction.tools.bench")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_layers_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contract_refuses_a_feature_importing_upwards_or_sideways(tmp_path):
    for package in ("correction", "jobs"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path)
    kept = lint_imports(tmp_path)
    assert kept.returncode == 0, kept.stdout + kept.stderr

    for module, line in (("checkins/models.py", "from ..monitoring import sweeps"),   # up to monitoring
                         ("mall/points.py", "from ..alerts.models import Alert"),     # sideways, unnamed
                         ("people/models.py", "from ..auth.models import AuthToken")):  # people <- auth
        target = tmp_path / "correction" / module
        original = target.read_text()
        target.write_text(original + f"\n{line}  # noqa\n")
        broken = lint_imports(tmp_path)
        target.write_text(original)
        assert broken.returncode != 0, f"{module}: {line} was not caught\n{broken.stdout}"
        assert "BROKEN" in broken.stdout


def _modules_loaded_by(code: str, tmp_path: Path) -> list[str]:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
           "CORRECTION_LOG_LEVEL": "WARNING", "CORRECTION_ENV": "test"}
    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_create_app_loads_no_seed_simulation_or_benchmark_code(tmp_path):
    loaded = _modules_loaded_by("from correction.app import create_app\ncreate_app()", tmp_path)
    assert "correction.app" in loaded and "correction.monitoring.handlers" in loaded
    assert [m for m in loaded if m.startswith("correction.tools")] == []


def test_the_served_app_loads_only_the_tools_command_definitions(tmp_path):
    loaded = _modules_loaded_by("import wsgi", tmp_path)
    assert "correction.tools.cli" in loaded
    assert [m for m in loaded if m.startswith(TOOLS)] == []


def test_the_benchmark_endpoints_are_not_in_the_served_app(app):
    assert not [rule for rule in app.url_map.iter_rules() if "_bench" in rule.rule]
