"""Properties: code with nothing to migrate is left byte-identical; a migration is idempotent."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codemods.base import Example
from codemod_examples import run_example
from codemods.apply_declared_mixins import ApplyDeclaredMixins

CONTRACT = "name: n\nnode_type: EFFECT\nmixins:\n  - {name: MixinHealthCheck}\n  - {name: MixinMetrics}\n"
identifiers = st.text(string.ascii_lowercase, min_size=1, max_size=8).map(lambda s: "v_" + s)


@st.composite
def plain_modules(draw):
    """Modules with functions and a class that has nothing hand-rolled, in varied formatting."""
    lines = ["import os", ""]
    for name in draw(st.lists(identifiers, min_size=1, max_size=4, unique=True)):
        spaces = draw(st.sampled_from([" ", "  "]))
        lines += [f"def {name}(a,{spaces}b=1):  # keep me", f"    return (a +{spaces}b)", ""]
    value = draw(st.integers(-10**6, 10**6))
    lines += ["class Plain:", f"    value = {value}", "", "    def get(self):", "        return self.value", ""]
    return "\n".join(lines)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=plain_modules())
def test_module_without_a_node_is_left_byte_identical(source, tmp_path_factory):
    from codemods.registry import all_codemods
    from omnimix.discovery import node_dirs
    from omnimix.engine import migrate_node
    from codemod_examples import write_example_node

    root = tmp_path_factory.mktemp("plain")
    node_dir = write_example_node(Example("plain", source, source, CONTRACT), root)
    result = migrate_node(node_dirs(node_dir)[0], root, codemods=all_codemods())
    assert all(not change.changed for change in result.changes)
    assert (node_dir / "node.py").read_text() == source


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.lists(st.sampled_from(["MixinHealthCheck", "MixinMetrics", "MixinCaching", "MixinFailFast"]),
                      min_size=1, max_size=4, unique=True),
       multiline=st.booleans())
def test_declaring_mixins_is_idempotent(extra, multiline, tmp_path_factory):
    bases = "(\n    NodeEffect,\n)" if multiline else "(NodeEffect)"
    before = f"from omnibase_core.nodes import NodeEffect\n\n\nclass NodeX{bases}:\n    pass\n"
    contract = "name: n\nnode_type: EFFECT\nmixins:\n" + "".join(f"  - {{name: {m}}}\n" for m in extra)
    example = Example("idempotent", before, before, contract)
    after, result = run_example(ApplyDeclaredMixins, example, tmp_path_factory.mktemp("first"))
    assert all(name in after for name in extra), result.message
    again, _ = run_example(ApplyDeclaredMixins, example, tmp_path_factory.mktemp("second"), text=after)
    assert again == after
    compile(after, "node.py", "exec")
