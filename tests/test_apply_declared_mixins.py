import pytest
from codemod_examples import assert_example

from codemods.declared_mixins import ApplyDeclaredMixins


@pytest.mark.parametrize("example", ApplyDeclaredMixins.examples, ids=lambda e: e.title)
def test_examples(example, tmp_path):
    assert_example(ApplyDeclaredMixins, example, tmp_path)
