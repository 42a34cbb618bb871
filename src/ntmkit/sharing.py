"""Sharing a trained NTM the way PyTorch users share models: a folder with ``config.json`` and
``model.safetensors``, the layout of Hugging Face's ``PyTorchModelHubMixin``.

``model.safetensors`` holds the weights in the safetensors format (tensors and a little text,
no pickle: loading it can never run code) and, in its metadata, the model's whole `NTMConfig`
as JSON (``ntm_config``), so the weights are usable on their own. ``config.json`` is that same
config for a folder written by `save_pretrained`; in a run folder written by ntmkit (a shipped
model, say) it is the run's `RunConfig`, and the metadata config is used.

`load_pretrained` takes a local folder, or, where ``huggingface_hub`` is installed, a model
repository's name on the Hub (``user/ntm-copy``), which it downloads first; `push_to_hub`
uploads a model's folder. A file with a missing, extra or misshapen tensor is a one-line
`ValueError` naming it.
"""

import contextlib
import json
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import torch

from .config import NTMConfig

Model = TypeVar("Model", bound=torch.nn.Module)

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
FORMAT = "ntmkit.NTM"
"""The ``format`` of the metadata and of a `save_pretrained` ``config.json``."""


def save_pretrained(
    weights: Mapping[str, torch.Tensor],
    config: NTMConfig,
    folder: str | Path,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write a model's ``weights`` (its state dict) and ``config`` to ``folder`` as
    ``model.safetensors`` and ``config.json``; ``metadata`` adds text entries to the weights
    file (a run's ``step``, say). Returns the folder."""
    from safetensors.torch import save

    from . import __version__

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fields = config.to_dict()
    tags = {"format": FORMAT, "ntm_config": json.dumps(fields), "ntmkit": __version__}
    tensors = {name: t.detach().cpu().contiguous() for name, t in weights.items()}
    # Written as bytes, so the file gets the user's usual permissions (save_file makes 0600).
    (folder / WEIGHTS).write_bytes(save(tensors, metadata={**tags, **(metadata or {})}))
    (folder / CONFIG).write_text(json.dumps({"format": FORMAT, **fields}, indent=2) + "\n")
    return folder


def load_pretrained(
    model_class: Callable[[NTMConfig], Model],
    name: str | Path,
    device: str | torch.device = "cpu",
    **hub_options: Any,
) -> Model:
    """The model (``model_class(config)``, an `ntmkit.NTM`) saved in the folder ``name`` (or,
    with huggingface_hub, in the Hub repository ``name``; ``hub_options`` go to its
    ``snapshot_download``: ``revision``, ``token``, ...), in eval mode."""
    folder = _local_folder(name, hub_options)
    weights, metadata = read_weights(folder / WEIGHTS)
    model = model_class(config_of(folder, metadata))
    check_weights(model, weights, folder / WEIGHTS)
    model.load_state_dict(weights)
    return model.to(device).eval()


def read_weights(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and metadata of a safetensors file; a one-line `ValueError` naming the file
    if it is missing or not one."""
    with _opened(path) as file:
        names = file.keys()  # a safe_open handle is not iterable itself
        return {k: file.get_tensor(k) for k in names}, dict(file.metadata() or {})


def read_metadata(path: Path) -> dict[str, str]:
    """The metadata of a safetensors file alone (its tensors are not read); errors as
    `read_weights`."""
    with _opened(path) as file:
        return dict(file.metadata() or {})


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[Any]:
    """``safe_open`` on ``path``, with its failures (and a missing file) as one-line errors."""
    from safetensors import SafetensorError, safe_open

    if not path.is_file() and (path.parent / "checkpoint.pt").is_file():
        raise ValueError(
            f"{path.parent} is a training run: load it with ntmkit.load_run, or write it as a "
            f"model folder with `ntmkit export {path.parent} OUT`"
        )
    if not path.is_file():
        raise ValueError(f"no {WEIGHTS} at {path.parent}: is it a model saved by save_pretrained?")
    try:
        with safe_open(str(path), framework="pt") as file:
            yield file
    except (SafetensorError, OSError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"{path} is not a readable safetensors file: {first}") from None


def config_of(folder: Path, metadata: dict[str, str]) -> NTMConfig:
    """The model's `NTMConfig`: from the weights' metadata, else from ``config.json``."""
    text = metadata.get("ntm_config")
    where = folder / WEIGHTS
    if text is None:
        where = folder / CONFIG
        if not where.is_file():
            raise ValueError(f"{folder} has no {CONFIG} and its weights name no config")
        text = where.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
        data.pop("format", None)
        return NTMConfig.from_dict(data)
    except (ValueError, TypeError, AttributeError) as error:
        raise ValueError(f"{where} holds no valid NTMConfig: {error}") from None


class Mismatch(NamedTuple):
    """The first way a set of weights fails to fit a model: ``kind`` is ``"missing"``,
    ``"extra"`` or ``"shape"``; ``shape`` is the file's (None if missing), ``expected`` the
    model's (None if extra)."""

    kind: str
    name: str
    shape: list[int] | None
    expected: list[int] | None


def first_mismatch(
    expected: Mapping[str, torch.Tensor], weights: Mapping[str, torch.Tensor]
) -> Mismatch | None:
    """The first weight missing from ``weights``, else the first extra one, else the first of
    another shape than in ``expected`` (a model's state dict); None if they fit."""
    for name, tensor in expected.items():
        if name not in weights:
            return Mismatch("missing", name, None, list(tensor.shape))
    for name in weights:
        if name not in expected:
            return Mismatch("extra", name, list(weights[name].shape), None)
    for name, tensor in expected.items():
        if weights[name].shape != tensor.shape:
            return Mismatch("shape", name, list(weights[name].shape), list(tensor.shape))
    return None


def check_weights(model: torch.nn.Module, weights: dict[str, torch.Tensor], path: Path) -> None:
    """A one-line `ValueError` naming the first tensor that is missing, extra or of another
    shape than ``model``'s."""
    found = first_mismatch(model.state_dict(), weights)
    if found is None:
        return
    if found.kind == "missing":
        raise ValueError(f"{path} lacks the tensor {found.name} (shape {found.expected})")
    if found.kind == "extra":
        raise ValueError(f"{path} has a tensor the model does not: {found.name}")
    raise ValueError(
        f"{path}: tensor {found.name} has shape {found.shape} where the config's model has "
        f"{found.expected}"
    )


def push_to_hub(
    weights: Mapping[str, torch.Tensor], config: NTMConfig, repo_id: str, **options: Any
) -> str:
    """Upload a model (as `save_pretrained` writes it) to the Hub repository ``repo_id``,
    created if needed; ``options`` go to ``HfApi.upload_folder`` (``commit_message``, ...).
    Needs ``pip install ntmkit[hub]`` and a Hub login. Returns the commit's URL."""
    api = _hub().HfApi()
    api.create_repo(repo_id, exist_ok=True, repo_type="model")
    with tempfile.TemporaryDirectory() as folder:
        save_pretrained(weights, config, folder)
        commit = api.upload_folder(repo_id=repo_id, folder_path=folder, **options)
    return str(getattr(commit, "commit_url", commit))


def _local_folder(name: str | Path, hub_options: dict[str, Any]) -> Path:
    folder = Path(name).expanduser()
    if folder.is_dir():
        return folder
    text = str(name)
    if text.count("/") != 1 or text.startswith((".", "/", "~")):
        raise ValueError(f"no model folder at {name} (and it is no Hub repository name)")
    hub = _hub()
    try:
        return Path(hub.snapshot_download(repo_id=text, **hub_options))
    except Exception as error:  # the Hub's errors are many kinds, and often several lines long
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ValueError(f"no model folder at {name}, and the Hub gave no model: {first}") from None


def _hub() -> Any:
    try:
        import huggingface_hub
    except ImportError:
        raise ValueError(
            "loading from or pushing to the Hugging Face Hub needs huggingface_hub "
            "(pip install ntmkit[hub])"
        ) from None
    return huggingface_hub
