"""App dependencies run one way (README, "Architecture"):

    agreements, councils  <-  deviations  <-  followup        devdata: development only
    agreements, councils  <-  identity (sign-in)      deviations  <-  pages (legal pages)

Reference data never imports reports, the reports never import the statistics that read them, and no
production app imports the dev-only demo data. Read from the source with ``ast``, so an import inside a
function counts as well.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: app -> the apps it must not import.
FORBIDDEN = {
    "agreements": {"deviations", "followup", "devdata", "identity", "pages"},
    "councils": {"deviations", "followup", "devdata", "identity", "pages"},
    "deviations": {"followup", "devdata", "identity", "pages"},
    "followup": {"devdata"},
    "config": {"devdata"},
    # Sign-in reads reference data only; the legal pages use the mail delivery of deviations.
    "identity": {"deviations", "followup", "devdata"},
    "pages": {"followup", "devdata"},
}


def imported_modules(path: Path) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved from its package)."""
    package = path.relative_to(ROOT).parent.parts
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join((*base, node.module or ""))
            names.add(module.strip("."))
    return names


def imports_of(app: str) -> dict[str, set[str]]:
    """{file: top-level apps imported} for every Python file of ``app``."""
    return {
        str(path.relative_to(ROOT)): {name.split(".")[0] for name in imported_modules(path)}
        for path in sorted((ROOT / app).rglob("*.py"))
    }


def test_the_parser_sees_absolute_relative_and_nested_imports(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    module = tmp_path / "agreements" / "sub" / "module.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "import deviations.models\n"
        "from .. import selectors\n"
        "from .helpers import x\n"
        "def f():\n"
        "    from followup.selectors import followup_statistics\n"
    )
    assert imported_modules(module) == {
        "deviations.models",
        "agreements",
        "agreements.sub.helpers",
        "followup.selectors",
    }
    assert imports_of("agreements") == {"agreements/sub/module.py": {"deviations", "agreements", "followup"}}


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_app_dependencies_run_one_way(app):
    wrong = {
        file: sorted(apps & FORBIDDEN[app]) for file, apps in imports_of(app).items() if apps & FORBIDDEN[app]
    }
    assert wrong == {}, f"{app} must not import {sorted(FORBIDDEN[app])}"
