"""The package as a user gets it: a wheel built from this checkout, installed into a fresh
virtual environment outside the repository, run by that environment's Python called by its
absolute path with its ``bin/`` (and any system ninja) off ``PATH``, builds the fused engine,
runs models on it, shares one through ``save_pretrained``/``from_pretrained`` and loads a
shipped model.

The heavy dependencies (torch, NumPy, matplotlib) are not downloaded again: the fresh
environment sees this one's site-packages through a ``.pth`` line, after its own. ntmkit comes
only from the wheel (checked: the module imported lives in the fresh environment), and ninja is
installed into it as pip installs it for a user: its program in the environment's ``bin/``.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPILER_TOOLS = ("c++", "g++", "gcc", "cc", "as", "ld", "ld.bfd", "which", "sh")
"""What g++ and torch's builder call through PATH; the test's PATH holds these and no ninja."""

CHECK = """
import sys, torch, ntmkit, ntmkit.pretrained
from ntmkit import NTM, NTMConfig, fused
assert ntmkit.__file__.startswith(sys.prefix), ntmkit.__file__
model = NTM(NTMConfig(input_size=3, output_size=2, num_slots=8, word_size=4))
inputs = torch.rand(5, 2, 3)
print("loaded", fused.load() is not None)
print("reason", fused.why_not(model.cell, inputs, trace=False))
print("logits", tuple(model(inputs)[0].shape))
model.save_pretrained("shared")
again = NTM.from_pretrained("shared")
print("shared", torch.equal(model(inputs)[0], again(inputs)[0]))
print("shipped", ntmkit.pretrained.load("copy").config.num_slots)
"""


def _tools_only_path(folder: Path) -> str:
    folder.mkdir()
    for tool in COMPILER_TOOLS:
        found = shutil.which(tool)
        if found is not None:
            (folder / tool).symlink_to(found)
    assert not (folder / "ninja").exists()
    return str(folder)


@pytest.mark.slow
def test_a_wheel_in_a_fresh_environment_off_path_builds_and_uses_the_fused_engine(tmp_path):
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation"]
    subprocess.run([*build, "--quiet", "-w", str(wheels)], check=True, cwd=tmp_path)
    (wheel,) = wheels.glob("ntmkit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "ntmkit/py.typed" in names and any(n.endswith("licenses/LICENSE") for n in names)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA")))
    assert b"License-Expression: MIT" in metadata
    fresh = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(fresh)
    python = fresh / "bin" / "python"
    where = [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    site = subprocess.run(where, check=True, capture_output=True, text=True).stdout.strip()
    ninja = f"ninja=={version('ninja')}"  # the version here: pip's cache has it
    install = [python, "-m", "pip", "install", "--no-deps", "--quiet", str(wheel), ninja]
    subprocess.run(install, check=True)
    # After the installs, or pip would find ninja here and not install it there.
    Path(site, "ntmkit-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {
        "PATH": _tools_only_path(tmp_path / "tools"),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "TORCH_EXTENSIONS_DIR": str(tmp_path / "extensions"),  # a first build, here
    }
    done = subprocess.run(
        [python, "-c", CHECK], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    shipped = "shipped 128"  # the shipped copy model, read from the wheel's package data
    expected = ["loaded True", "reason None", "logits (5, 2, 2)", "shared True", shipped]
    assert done.stdout.splitlines() == expected
    said = done.stderr.splitlines()
    assert said[0].startswith("ntmkit: building the fused C++ engine"), said
    assert said[1].startswith("ntmkit: fused engine built in"), said


@pytest.mark.slow
def test_the_sdist_carries_the_tests_results_license_and_what_the_readme_links_to(tmp_path):
    build = f"from setuptools import build_meta as b; print(b.build_sdist(r'{tmp_path}'))"
    name = subprocess.run(
        [sys.executable, "-c", build], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()[-1]
    with tarfile.open(tmp_path / name) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    for path in ("LICENSE", "RESULTS.md", "Makefile", "tests/test_model.py", "src/ntmkit/py.typed",
                 "src/ntmkit/fused/csrc/engine.cpp", "docs/results/copy-fast.png",
                 "src/ntmkit/pretrained/models/copy/model.safetensors"):  # fmt: skip
        assert path in members, path
    assert not any("__pycache__" in m for m in members)
