"""Imports a migration adds go in as LibCST's ``AddImportsVisitor`` puts them, though only the module's head is
visited."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from omnimix.analysis.imports import add_imports, transform_in_place

HEADS = [
    "",
    "x = 1\n",
    '"""Doc."""\n',
    '"""Doc."""\nimport os\n\nclass A:\n    pass\n',
    '"""Doc."""\n\n# a comment\nclass A:\n    pass\n',
    "__strict__ = True\nfrom typing import Any\nclass A:\n    pass\n",
    "from __future__ import annotations\n\nimport os\nfrom omnibase_core.x import A\n\n\nclass N(A):\n    pass\n",
    "from omnibase_core.mixins.mixin_health_check import MixinHealthCheck\nclass N:\n    pass\n",
    "from omnibase_core.mixins.mixin_health_check import (\n    Other,\n)\n\n# lead\nclass N:\n    pass\n",
    "import os\nif os.name:\n    from omnibase_core.models import M\nx = 1\n",
    "import os; import sys\nclass N:\n    from typing import Any\n",
    "from omnibase_core.mixins.mixin_health_check import *\n",
]
ADDED = [("omnibase_core.mixins.mixin_health_check", "MixinHealthCheck"),
         ("omnibase_core.mixins.mixin_metrics", "MixinMetrics"), ("typing", "Any")]


def _context() -> CodemodContext:
    context = CodemodContext()
    for module, name in ADDED:
        AddImportsVisitor.add_needed_import(context, module, name)
    return context


@pytest.mark.parametrize("text", HEADS)
def test_the_head_only_visit_adds_what_the_whole_visit_adds(text):
    whole = transform_in_place(AddImportsVisitor(_context()), cst.parse_module(text)).code
    assert add_imports(_context(), cst.parse_module(text)).code == whole


def test_the_statements_after_the_imports_are_the_same_objects():
    module = cst.parse_module("import os\n\nclass A:\n    def f(self):\n        return 1\n\nx = 2\n")
    added = add_imports(_context(), module)
    assert added.body[-1] is module.body[-1]
    assert added.body[-2].body is module.body[-2].body
