"""The simulators in tests/fakes are written from the vendors' contracts and import nothing of
Slate, so a product bug can't hide inside its own test double."""

import ast
from pathlib import Path

import pytest

FAKES = Path(__file__).resolve().parent / "fakes"
PRODUCT = ("studio", "library", "storyboard", "manage", "tests")


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in it, relative imports made absolute."""
    package = ["tests", "fakes"]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def of_slate(module: str) -> bool:
    """Whether ``module`` is Slate's own; the other simulators are fine (tests.fakes)."""
    if module == "tests.fakes" or module.startswith("tests.fakes."):
        return False
    return module.split(".")[0] in PRODUCT


@pytest.mark.parametrize("path", sorted(FAKES.glob("*.py")), ids=lambda path: path.name)
def test_a_simulator_imports_nothing_of_slate(path):
    assert not [module for module in imported(path) if of_slate(module)]


def test_the_check_sees_every_way_of_importing_slate(tmp_path):
    fake = tmp_path / "fake.py"
    fake.write_text(
        "import studio.models\n"
        "def f():\n"
        "    from library import presets\n"
        "    from tests.support.engine import KEY\n"
        "    from .. import conftest\n"
        "    from .videos_api import Faults\n"
    )
    assert sorted(m for m in imported(fake) if of_slate(m)) == [
        "library.presets",
        "studio.models",
        "tests.conftest",
        "tests.support.engine.KEY",
    ]
