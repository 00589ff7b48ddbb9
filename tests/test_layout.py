"""The codemod layout: one package per concern, none importing another."""

import ast
from pathlib import Path

from codemods.registry import all_codemods

CODEMODS = Path(__file__).resolve().parent.parent / "codemods"


def test_every_registered_codemod_is_the_package_of_its_concern():
    for codemod in all_codemods():
        module = type(codemod).__module__
        assert module.count(".") == 1 and (CODEMODS / module.split(".")[1] / "__init__.py").is_file(), module


def test_no_codemod_package_imports_another():
    packages = sorted(p.name for p in CODEMODS.iterdir() if (p / "__init__.py").is_file())
    assert len(packages) == len(all_codemods())
    for package in packages:
        for path in (CODEMODS / package).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("codemods."):
                    other = node.module.split(".")[1]
                    assert other in (package, "base"), f"{path.relative_to(CODEMODS)} imports {node.module}"
