"""House rules that a reader of the source relies on (see ../shared/STYLE.md)."""

import ast
import re
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "src" / "ntmkit"
MAX_FUNCTION_LINES = 50


def test_no_function_in_the_package_is_longer_than_fifty_lines():
    long = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(SOURCE)}:{node.lineno} {node.name} ({lines})")
    assert not long, long


TYPE_IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")


def test_every_type_ignore_names_its_codes_and_says_why_on_the_same_line():
    bare = []
    for path in sorted(SOURCE.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            found = TYPE_IGNORE.search(line)
            if found and not (found["codes"] and re.match(r"\s*#\s*\S", found["rest"])):
                bare.append(f"{path.relative_to(SOURCE)}:{number} {line.strip()}")
    assert not bare, bare
