"""The house rules that keep the code base one-way (README "Layout")."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TOOL = REPO.parent / "shared" / "tools" / "import-loops"


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def project_imports(
    folder: str, packages=("studio", "library", "storyboard")
) -> dict[str, set[str]]:
    return {
        str(path.relative_to(REPO)): {
            name for name in imports_of(path) if name.split(".")[0] in packages
        }
        for path in (REPO / folder).rglob("*.py")
        if "migrations" not in path.parts
    }


def test_no_import_loop():
    if not TOOL.exists():  # the workplace's tool lives beside the repository, not in it
        pytest.skip("../shared/tools/import-loops is not beside this checkout")
    result = subprocess.run(
        [sys.executable, str(TOOL)], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_providers_never_import_the_lifecycle_or_the_engine():
    upward = ("studio.takes", "studio.engine", "studio.tasks", "studio.live", "studio.ledger")
    for module, names in project_imports("studio/providers").items():
        assert not [n for n in names if n.startswith(upward)], module


def test_the_engine_is_reached_only_from_above_it():
    allowed = ("studio/engine/", "studio/tasks.py", "studio/webhook_views.py", "studio/management/")
    for module, names in project_imports("studio").items():
        if any(name.startswith("studio.engine") for name in names):
            assert module.startswith(allowed), module


def test_storyboard_sits_above_library_and_studio():
    """storyboard → library → studio: nothing below reaches up into storyboard."""
    for folder in ("studio", "library"):
        for module, names in project_imports(folder, packages=("storyboard",)).items():
            assert not names, module


def test_no_template_below_storyboard_names_it():
    for folder in ("studio", "library"):
        for path in (REPO / "templates" / folder).rglob("*.html"):
            assert "storyboard" not in path.read_text(encoding="utf-8"), path


def test_storyboard_imports_only_at_the_top_of_a_module():
    for path in (REPO / "storyboard").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
                assert not inner, f"{path.relative_to(REPO)}: import inside {node.name}()"


def test_teams_sits_above_studio_and_library():
    """teams may use studio; nothing below reaches up into it (templates name its urls)."""
    for folder in ("studio", "library", "storyboard"):
        for module, names in project_imports(folder, packages=("teams",)).items():
            assert not names, module


def test_teams_imports_only_at_the_top_of_a_module():
    """One exception: TeamsConfig.ready loads teams' own receivers once the models are."""
    for path in (REPO / "teams").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
                if path.name == "apps.py" and node.name == "ready":
                    inner = [n for n in inner if not (isinstance(n, ast.ImportFrom) and n.level)]
                assert not inner, f"{path.relative_to(REPO)}: import inside {node.name}()"


def test_no_template_comment_spans_lines():
    """Django's {# … #} ends on its own line: one left open prints the rest as page text
    (a three-line one once broke every page's <head>). Longer notes use {% comment %}."""
    for path in (REPO / "templates").rglob("*.html"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "{#" in line:
                assert "#}" in line[line.index("{#") :], f"{path}:{number}"
