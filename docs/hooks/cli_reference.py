"""An MkDocs hook that writes the command-line reference from ``ntmkit``'s own parser.

``docs/reference/cli.md`` holds the line ``<!-- cli-reference -->``; on every build it is
replaced by one section per command of `ntmkit.cli.build_parser`: the usage line, the help
and a table of its arguments (flag, value, default, help). Nothing is retyped, so a flag
added to the parser (a row of ``TRAIN_FLAGS``, say) appears here at the next build.
"""

import argparse
import os

MARKER = "<!-- cli-reference -->"
PAGE = "reference/cli.md"


def on_page_markdown(markdown: str, page, **kwargs) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise ValueError(f"{PAGE} lacks the line {MARKER}, where the reference goes")
    return markdown.replace(MARKER, cli_markdown())


def cli_markdown() -> str:
    """Every command of ``ntmkit``, in the order the parser lists them."""
    os.environ["COLUMNS"] = "100"  # argparse wraps usage lines at the terminal's width
    from ntmkit.cli import build_parser

    parser = build_parser()
    sections = [_command("ntmkit", parser, parser.description)]
    for name, sub in _subparsers(parser).items():
        sections.append(_command(f"ntmkit {name}", sub, sub.description or _summary(parser, name)))
    return "\n\n".join(sections) + "\n"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _summary(parser: argparse.ArgumentParser, name: str) -> str | None:
    """The one-line help the parent parser gives the command ``name``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if choice.dest == name:
                    return choice.help
    return None


def _command(title: str, parser: argparse.ArgumentParser, text: str | None) -> str:
    usage = parser.format_usage().removeprefix("usage: ").strip()
    lines = [f"## `{title}`", ""]
    if text:
        lines += [_sentence(text), ""]
    lines += ["```text", usage, "```", ""]
    rows = [_row(parser, action) for action in parser._actions]
    rows = [row for row in rows if row is not None]
    if rows:
        lines += ["| argument | value | default | what |", "|---|---|---|---|", *rows]
    return "\n".join(lines)


def _row(parser: argparse.ArgumentParser, action: argparse.Action) -> str | None:
    if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
        return None
    options = action.option_strings or [action.metavar or action.dest]
    name = ", ".join(f"`{option}`" for option in options)
    value = _value(action)
    default = _default(action)
    what = parser._get_formatter()._expand_help(action) if action.help else ""
    return f"| {name} | {value} | {default} | {_cell(what)} |"


def _value(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    if action.choices is not None:
        return " / ".join(f"`{choice}`" for choice in action.choices)
    metavar = action.metavar or (action.dest.upper() if action.option_strings else action.dest)
    return f"`{metavar}`"


def _default(action: argparse.Action) -> str:
    if action.nargs == 0 or action.default in (None, [], argparse.SUPPRESS):
        return ""
    return f"`{action.default}`"


def _cell(text: str) -> str:
    """Help text as one table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")
