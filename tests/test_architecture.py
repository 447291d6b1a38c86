"""No private name crosses a module boundary: a ``_name`` is its module's own.

import-linter (``make lint``) checks which module may import which; this checks what is taken
from them: no ``from panjereh.x import _name`` and no ``module._name`` on a module of the
package imported by another one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import panjereh

ROOT = Path(panjereh.__file__).parent


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _absolute(module: str, level: int, here: str) -> str:
    if not level:
        return module
    base = here.split(".")[:-level]
    return ".".join([*base, module] if module else base)


def private_uses(path: Path) -> list[str]:
    """Each private name another module of the package gives to the module at ``path``."""
    relative = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1] + ["__init__"]  # `from . import x` is relative to the package
    here = ".".join(parts)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules: set[str] = set()  # local names bound to modules of the package
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _absolute(node.module or "", node.level, here)
            if not source.startswith("panjereh"):
                continue
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{here}:{node.lineno} imports {source}.{alias.name}")
                elif (ROOT.parent / source.replace(".", "/") / f"{alias.name}.py").exists():
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("panjereh.") and alias.asname:
                    modules.add(alias.asname)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and _private(node.attr)
        ):
            found.append(f"{here}:{node.lineno} uses {node.value.id}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    found = [use for path in sorted(ROOT.rglob("*.py")) for use in private_uses(path)]
    assert found == []


def test_the_check_finds_a_private_import_and_a_private_attribute(tmp_path, monkeypatch):
    package = tmp_path / "panjereh" / "app"
    package.mkdir(parents=True)
    (package / "rules.py").write_text("def _hidden(): ...\n")
    module = package / "views.py"
    module.write_text(
        "from panjereh.app.rules import _hidden\nfrom . import rules\nrules._hidden()\n"
    )
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path / "panjereh")
    assert private_uses(module) == [
        "panjereh.app.views:1 imports panjereh.app.rules._hidden",
        "panjereh.app.views:3 uses rules._hidden",
    ]
