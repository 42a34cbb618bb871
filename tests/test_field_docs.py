"""Every field of the configs a user writes is explained in its class's docstring (what
``help(NTMConfig)`` shows), and the reader of those sections finds each one."""

import dataclasses

import pytest

from ntmkit import NTMConfig
from ntmkit.field_docs import field_docs
from ntmkit.run.train_config import TrainConfig


@pytest.mark.parametrize("cls", [NTMConfig, TrainConfig])
def test_every_config_field_has_a_sentence_in_the_docstring(cls):
    docs = field_docs(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    assert list(docs) == names  # every field, in declaration order, nothing else
    assert all(len(text) > 10 and text.endswith(".") for text in docs.values()), docs


def test_continuation_lines_join_and_the_next_section_ends_the_attributes():
    class Documented:
        """Summary.

        Attributes:
          first: one line
            and its continuation.
          second: alone.

        Returns:
          nothing: this is not a field.
        """

    assert field_docs(Documented) == {"first": "one line and its continuation.", "second": "alone."}
