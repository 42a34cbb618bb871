"""Each config field's sentence, read from its dataclass's docstring.

Config dataclasses (`ntmkit.NTMConfig`, `ntmkit.run.train_config.TrainConfig`, ...) document every
field in an ``Attributes:`` section, Google style, so ``help(NTMConfig)`` explains them all;
`field_docs` reads that section back for the command line's help and for tests that keep it
complete.
"""

import inspect
import re

_ENTRY = re.compile(r"^(\w+): (.*)$")


def field_docs(cls: type) -> dict[str, str]:
    """``{field: text}`` from the ``Attributes:`` section of ``cls``'s docstring, each entry's
    continuation lines joined into one line."""
    lines = (inspect.getdoc(cls) or "").splitlines()
    if "Attributes:" not in lines:
        return {}
    docs: dict[str, str] = {}
    name = None
    for line in lines[lines.index("Attributes:") + 1 :]:
        if line and not line.startswith(" "):
            break  # the next section
        entry = _ENTRY.match(line.strip()) if line.startswith("  ") and line[2] != " " else None
        if entry is not None:
            name = entry.group(1)
            docs[name] = entry.group(2)
        elif name is not None and line.strip():
            docs[name] += " " + line.strip()
    return docs
