"""Every code block of the documentation runs, so the pages cannot drift from the code.

The pages are ``docs/**/*.md`` and ``README.md``. Each page's blocks run in order, in a fresh
working folder (holding links to ``examples/`` and to ntm-lasagne's models as ``models/``), so a
command may use what an earlier block of its page made:

* ```` ```python ````: run with ``exec``; the blocks of one page share their names.
* ```` ```bash ```` (or ``console``, ``shell``): each line is one ``ntmkit`` command (a trailing
  ``\\`` continues it, ``#`` starts a comment), run through ``ntmkit.cli.main`` and expected to
  exit 0. A line that starts with ``NAME=value`` runs in a child process with that environment
  variable, as a shell would. Budgets are cut so that a page takes seconds: a new run trains
  ``TINY_STEPS`` steps, a resumed one goes on to ``TINY_STEPS_RESUMED``, ``--time-limit`` is
  dropped, ``eval`` scores ``TINY_SAMPLES`` sequences per point, and so does the test a run ends
  with. ``ntmkit sweep`` builds its `SweepSpec` and every trial's `RunConfig` (so each flag, grid
  key and value is checked) but does not start Ray: ``tests/test_sweep_ray.py`` runs real
  sweeps. Capital placeholders of the results pages are filled in: ``RUN`` by the run folder
  written last under ``runs/``, ``S`` by seed 0, ``TASK`` by ``copy``.
* ```` ```text ```` and ```` ```toml ````: output and file contents, shown, not run.

A block that must not run (``make``, ``pip``, a Ray cluster, a benchmark that takes minutes, the
network) has the line ``<!-- no-run: REASON -->`` right above it; the reason is required, and
a shell line that is not an ``ntmkit`` command fails the test unless its block is so marked.
"""

import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
LASAGNE_MODELS = ROOT.parent / "shared" / "fixtures" / "ntm-lasagne"

RUN_LANGUAGES = {"python", "bash", "console", "shell"}
SHOWN_LANGUAGES = {"text", "toml"}
NO_RUN = re.compile(r"^<!--\s*no-run:\s*(?P<reason>.*?)\s*-->$")
FENCE = re.compile(r"^```(?P<language>[\w-]*)")
ENVIRONMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")
PLACEHOLDERS = {"S": "0", "TASK": "copy"}  # RUN: the run folder written last under runs/

TINY_STEPS = 2
TINY_STEPS_RESUMED = 4
TINY_SAMPLES = 2


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    no_run: str | None  # the reason, where the block is marked not to run

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of ``page``, in order (fences at the start of a line)."""
    found, lines = [], page.read_text().splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        above = lines[index - 1].strip() if index > 0 else ""
        marked = NO_RUN.match(above)
        found.append(
            Block(
                page,
                index + 1,
                opening["language"] or "text",
                "\n".join(lines[index + 1 : end]) + "\n",
                marked["reason"] if marked else None,
            )
        )
        index = end + 1
    return found


def commands(block: Block) -> list[list[str]]:
    """The shell block's command lines as argument lists, continuations joined."""
    text = block.code.replace("\\\n", " ")
    lines = [shlex.split(line, comments=True) for line in text.splitlines()]
    return [argv for argv in lines if argv]  # a line of only a comment is no command


def test_the_pages_have_code_blocks_and_each_no_run_marker_says_why():
    everything = [block for page in PAGES for block in blocks(page)]
    assert sum(block.language == "python" for block in everything) >= 10
    assert sum(block.language == "bash" for block in everything) >= 20
    for page in PAGES:
        lines = page.read_text().splitlines()
        for number, line in enumerate(lines, 1):
            if line.strip().startswith("<!--") and "no-run" in line:
                assert NO_RUN.match(line.strip()) and NO_RUN.match(line.strip())["reason"], (
                    f"{page.relative_to(ROOT)}:{number}: write <!-- no-run: REASON -->"
                )
                assert number < len(lines) and lines[number].startswith("```"), (
                    f"{page.relative_to(ROOT)}:{number}: a no-run marker goes right above a block"
                )


def test_every_block_is_a_known_language_and_every_shell_line_is_an_ntmkit_command():
    for page in PAGES:
        for block in blocks(page):
            assert block.language in RUN_LANGUAGES | SHOWN_LANGUAGES, block.where
            if block.language in RUN_LANGUAGES - {"python"} and block.no_run is None:
                for argv in commands(block):
                    words = [word for word in argv if not ENVIRONMENT.match(word)]
                    assert words and words[0] == "ntmkit", (
                        f"{block.where}: {shlex.join(argv)!r} is not an ntmkit command; "
                        f"mark the block <!-- no-run: REASON --> if it must not run"
                    )


def _to_run(page: Path) -> list[Block]:
    return [b for b in blocks(page) if b.language in RUN_LANGUAGES and b.no_run is None]


WITH_CODE = [page for page in PAGES if _to_run(page)]


@pytest.mark.parametrize("page", WITH_CODE, ids=[str(p.relative_to(ROOT)) for p in WITH_CODE])
def test_every_code_block_of_the_page_runs(page, tmp_path, monkeypatch):
    to_run = _to_run(page)
    _working_folder(tmp_path, monkeypatch)
    _tiny_budgets(monkeypatch)
    namespace: dict = {"__name__": "__docs__"}
    for block in to_run:
        if block.language == "python":
            exec(compile(block.code, block.where, "exec"), namespace)
        else:
            for argv in commands(block):
                _run_command(argv, block, tmp_path)


def test_the_site_builds_strictly(tmp_path):
    """Every link, heading, API name and the command-line reference resolve (MkDocs --strict)."""
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    cli = (tmp_path / "reference" / "cli" / "index.html").read_text()
    assert "--resume" in cli and "--grid" in cli  # the parser's flags, written in at build
    assert (tmp_path / "images" / "copy-dashboard.png").is_file()


def _working_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    if LASAGNE_MODELS.is_dir():
        (tmp_path / "models").symlink_to(LASAGNE_MODELS)


def _tiny_budgets(monkeypatch) -> None:
    """The test a run ends with, and every sweep, cut to a few sequences."""
    import ntmkit.sweep
    from ntmkit.training.trainer import Trainer

    final_sweep = Trainer.final_sweep
    monkeypatch.setattr(
        Trainer, "final_sweep", lambda self, samples=0, grid=None: final_sweep(self, 2, grid)
    )

    def sweep_without_ray(spec, out, address=None, **options):
        assert spec.trials(out), "a sweep of no trials"  # every trial's RunConfig, checked
        return SimpleNamespace(complete=True)

    monkeypatch.setattr(ntmkit.sweep, "run_sweep", sweep_without_ray)
    monkeypatch.setattr(ntmkit.sweep, "ray_available", lambda: True)


def _run_command(argv: list[str], block: Block, folder: Path) -> None:
    environment = dict(word.split("=", 1) for word in argv if ENVIRONMENT.match(word))
    argv = [word for word in argv if not ENVIRONMENT.match(word)][1:]  # after "ntmkit"
    argv = _tiny(_filled(argv, folder))
    if environment:
        done = subprocess.run(
            [sys.executable, "-m", "ntmkit", *argv],
            env={**os.environ, **environment},
            capture_output=True,
            text=True,
            timeout=300,
        )
        code, said = done.returncode, done.stderr[-2000:]
    else:
        from ntmkit.cli import main

        code, said = main(argv), ""
    assert code == 0, f"{block.where}: ntmkit {shlex.join(argv)} exited {code}\n{said}"


def _filled(argv: list[str], folder: Path) -> list[str]:
    """The placeholders of the results pages, filled in."""
    out = []
    for word in argv:
        if word == "RUN":
            runs = [path for path in (folder / "runs").glob("*") if path.is_dir()]
            assert runs, "RUN, but no run folder has been written yet on this page"
            word = str(max(runs, key=lambda path: path.stat().st_mtime))
        out.append(PLACEHOLDERS.get(word, word))
    return out


def _tiny(argv: list[str]) -> list[str]:
    """``argv`` with the budgets that keep a page to seconds."""
    command, argv = argv[0], _without(argv[1:], "--time-limit")
    if command == "train":
        steps = TINY_STEPS_RESUMED if "--resume" in argv else TINY_STEPS
        argv = [*_without(argv, "--max-iter"), "--max-iter", str(steps), "--no-progress"]
    elif command == "eval":
        argv = [*_without(argv, "--samples"), "--samples", str(TINY_SAMPLES)]
    elif command == "sweep":
        argv = [*_without(argv, "--max-iter"), "--max-iter", str(TINY_STEPS)]
    return [command, *argv]


def _without(argv: list[str], flag: str) -> list[str]:
    """``argv`` less ``flag`` and its value."""
    out, skip = [], False
    for word in argv:
        if skip:
            skip = False
        elif word == flag:
            skip = True
        elif not word.startswith(f"{flag}="):
            out.append(word)
    return out


def test_budgets_are_cut_and_placeholders_filled(tmp_path):
    assert _tiny(["train", "copy", "--max-iter", "110000", "--time-limit", "60"]) == [
        "train", "copy", "--max-iter", "2", "--no-progress",
    ]  # fmt: skip
    assert _tiny(["eval", "runs/copy", "--samples=1000"])[-2:] == ["--samples", "2"]
    for age, name in enumerate(["new", "old"]):
        (tmp_path / "runs" / name).mkdir(parents=True)
        os.utime(tmp_path / "runs" / name, (time.time() - age, time.time() - age))
    assert _filled(["eval", "RUN", "--seed", "S"], tmp_path) == [
        "eval", str(tmp_path / "runs" / "new"), "--seed", "0",
    ]  # fmt: skip


def test_every_relative_link_and_picture_of_the_readme_exists():
    """The README is read on GitHub, outside the site: its links go to files of the checkout."""
    text = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [target for target in targets if "://" not in target]
    assert "docs/images/copy-dashboard.png" in local
    missing = [target for target in local if not (ROOT / target).exists()]
    assert not missing, missing
