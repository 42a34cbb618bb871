"""`NTM`: the sequence module, used like `torch.nn.LSTM`, plus traces for plots.

`NTM.forward` runs a whole sequence in the fused engine (`ntmkit.fused`) where it applies, and
otherwise the eager step loop of `ntmkit.cell`, the readable definition of the model.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import torch
from torch import nn

from . import fused, sharing
from .cell import NTMCell, NTMState, StepTrace, unroll
from .config import NTMConfig
from .dnc_access import DNCHistory, DNCStep
from .engine import exporting
from .fused.sequence import run as fused_run
from .heads import DNCInterface, HeadParams, WriteVectors


class DNCTrace(NamedTuple):
    """Per-step internals of the DNC's memory (``NTMConfig.memory="dnc"``), each `[T, ...]`.

    Attributes:
      usage: `[T, B, N]`, each slot's usage after each step.
      allocation: `[T, B, N]`, where the allocation would write at each step.
      link: `[T, B, N, N]`, the temporal link matrix after each step.
      precedence: `[T, B, N]`.
      interface: `DNCInterface` of `[T, B, ...]` tensors: the gates, keys and read modes.
    """

    usage: torch.Tensor
    allocation: torch.Tensor
    link: torch.Tensor
    precedence: torch.Tensor
    interface: DNCInterface


class Trace(NamedTuple):
    """Per-step internals of a forward pass, each stacked on a leading time axis `[T, ...]`.

    Attributes:
      memory: `[T, B, N, W]`, memory after each step.
      read_weights: `[T, B, Hr, N]`; write_weights: `[T, B, Hw, N]`.
      reads: `[T, B, Hr * W]`; controller_output: `[T, B, U]`.
      heads: `HeadParams` of `[T, B, H, ...]` tensors (write heads first); None with the
        DNC's memory, whose heads are its interface (``dnc.interface``).
      writes: `WriteVectors` of `[T, B, Hw, W]` tensors, as applied at each step.
      dnc: the DNC memory's internals (`DNCTrace`); None for the NTM.
    """

    memory: torch.Tensor
    read_weights: torch.Tensor
    write_weights: torch.Tensor
    reads: torch.Tensor
    controller_output: torch.Tensor
    heads: HeadParams | None
    writes: WriteVectors
    dnc: DNCTrace | None = None


TRACING_ERROR = (
    "ntmkit.NTM cannot be traced: torch.jit.trace (and torch.onnx.export with dynamo=False, "
    "which traces) records one input's loop over time and replays it for inputs of every "
    "length; use torch.compile, or torch.export.export / torch.onnx.export(dynamo=True), "
    "which refuse a length other than the exported one"
)
SCRIPTING_ERROR = (
    "ntmkit.NTM cannot be scripted (TorchScript has no form of its optional state and "
    "engines); use torch.compile, or torch.export.export for a fixed sequence length"
)


# torch.compile runs the check as it is (it needs the values)
@torch.compiler.disable  # type: ignore[untyped-decorator]  # torch leaves it unannotated
def _all_finite(x: torch.Tensor) -> bool:
    return bool(torch.isfinite(x).all())


_TENSOR_FIELDS = ("memory", "read_weights", "write_weights", "reads", "controller_output")


def _state_tensors(state: NTMState) -> dict[str, torch.Tensor]:
    """The tensors of a state by name (``memory``, ..., ``controller_state[0]``, ...,
    ``dnc.usage``, ...)."""
    named = {name: getattr(state, name) for name in _TENSOR_FIELDS}
    controller = state.controller_state
    if not isinstance(controller, tuple):
        raise ValueError(f"state.controller_state must be a tuple, got {type(controller).__name__}")
    named.update({f"controller_state[{i}]": tensor for i, tensor in enumerate(controller)})
    if state.dnc is not None:
        if not isinstance(state.dnc, tuple) or len(state.dnc) != 3:
            raise ValueError("state.dnc must be an ntmkit.DNCHistory (usage, link, precedence)")
        named.update({f"dnc.{name}": getattr(state.dnc, name) for name in DNCHistory._fields})
    return named


def _stack_heads(heads: Sequence[HeadParams]) -> HeadParams:
    """Each step's `HeadParams` stacked on a leading time axis (``sign`` None if unused)."""
    signs = [h.sign for h in heads if h.sign is not None]
    return HeadParams(
        key=torch.stack([h.key for h in heads]),
        beta=torch.stack([h.beta for h in heads]),
        gate=torch.stack([h.gate for h in heads]),
        shift=torch.stack([h.shift for h in heads]),
        gamma=torch.stack([h.gamma for h in heads]),
        sign=torch.stack(signs) if signs else None,
    )


def _stack_dnc(states: list[NTMState], steps: list[DNCStep]) -> DNCTrace:
    """The DNC's per-step history and interface stacked on a leading time axis."""
    histories = [s.dnc for s in states if s.dnc is not None]
    interface = DNCInterface(*(torch.stack(parts) for parts in zip(*(s.interface for s in steps))))
    return DNCTrace(
        usage=torch.stack([h.usage for h in histories]),
        allocation=torch.stack([s.allocation for s in steps]),
        link=torch.stack([h.link for h in histories]),
        precedence=torch.stack([h.precedence for h in histories]),
        interface=interface,
    )


def _stack_trace(states: list[NTMState], steps: list[StepTrace]) -> Trace:
    ntm_heads = [s.heads for s in steps if s.heads is not None]
    dnc_steps = [s.dnc for s in steps if s.dnc is not None]
    writes = WriteVectors(*(torch.stack([s.writes[i] for s in steps]) for i in range(2)))
    return Trace(
        memory=torch.stack([s.memory for s in states]),
        read_weights=torch.stack([s.read_weights for s in states]),
        write_weights=torch.stack([s.write_weights for s in states]),
        reads=torch.stack([s.reads for s in states]),
        controller_output=torch.stack([s.controller_output for s in states]),
        heads=_stack_heads(ntm_heads) if ntm_heads else None,
        writes=writes,
        dnc=_stack_dnc(states, dnc_steps) if dnc_steps else None,
    )


class NTM(nn.Module):
    """A Neural Turing Machine over whole sequences (Graves et al. 2014).

    ``logits, state = ntm(inputs)`` with inputs `[T, B, F]` (`[B, T, F]` if
    ``config.batch_first``) returns logits `[T, B, output_size]` (same layout as the input) and
    the final `NTMState`. Apply a sigmoid (or BCE-with-logits) for bit probabilities.

    Example::

        ntm = NTM(NTMConfig(input_size=9, output_size=9))
        logits, state = ntm(torch.rand(11, 4, 9))   # logits [11, 4, 9]
    """

    def __init__(self, config: NTMConfig) -> None:
        super().__init__()
        self.config = config
        self.cell = NTMCell(config)

    def save_pretrained(self, folder: str | Path, metadata: dict[str, str] | None = None) -> Path:
        """Write the model to ``folder`` as ``config.json`` and ``model.safetensors`` (the
        layout of Hugging Face's ``PyTorchModelHubMixin``; see `ntmkit.sharing`)."""
        return sharing.save_pretrained(self.state_dict(), self.config, folder, metadata)

    @classmethod
    def from_pretrained(
        cls, name: str | Path, device: str | torch.device = "cpu", **hub_options: Any
    ) -> "NTM":
        """The NTM saved in the folder ``name`` by `save_pretrained` (or a shipped model's
        folder, or one ``ntmkit export`` wrote from a run), or in the Hub repository ``name``
        where ``huggingface_hub`` is installed; in eval mode. ``hub_options`` (``revision``,
        ``token``, ...) go to ``huggingface_hub.snapshot_download``."""
        return sharing.load_pretrained(cls, name, device, **hub_options)

    def push_to_hub(self, repo_id: str, **options: Any) -> str:
        """Upload the model to the Hub repository ``repo_id`` (``pip install ntmkit[hub]``
        and a Hub login); returns the commit's URL."""
        return sharing.push_to_hub(self.state_dict(), self.config, repo_id, **options)

    def __prepare_scriptable__(self) -> NoReturn:
        """Called by `torch.jit.script`: refuse in one line, naming what works instead."""
        raise RuntimeError(SCRIPTING_ERROR)

    def initial_state(self, batch_size: int) -> NTMState:
        """The state before the first step (memory init, one-hot weights, ``hid_init``)."""
        return self.cell.initial_state(batch_size)

    def step(self, x: torch.Tensor, state: NTMState) -> tuple[torch.Tensor, NTMState]:
        """One step on ``x [B, F]``: returns logits ``[B, output_size]`` and the new state."""
        if x.dim() != 2 or x.shape[-1] != self.config.input_size:
            raise ValueError(
                f"step input must have shape [batch, {self.config.input_size}], got {list(x.shape)}"
            )
        self._check_values("step input", x)
        self._check_state(state, x.shape[0])
        return self.cell.step(x, state)

    def forward(
        self,
        inputs: torch.Tensor,
        state: NTMState | None = None,
        lengths: torch.Tensor | None = None,
        trace: bool = False,
    ) -> tuple[torch.Tensor, NTMState] | tuple[torch.Tensor, NTMState, Trace | None]:
        """Run the NTM over a batch of sequences.

        Args:
          inputs: `[T, B, F]`, or `[B, T, F]` with ``config.batch_first``.
          state: initial `NTMState`; `initial_state(B)` when None.
          lengths: optional `[B]` integer lengths in 1..T. Each sequence then gets exactly the
            outputs and final state it would get alone: its state stops changing after its last
            step and its logits there are zero.
          trace: also return a `Trace` of every step's internals.
        Returns:
          ``(logits, final_state)``, or ``(logits, final_state, trace)`` when ``trace`` is set;
          logits are `[T, B, output_size]` (`[B, T, output_size]` with ``batch_first``).
        """
        if torch.jit.is_tracing():
            raise RuntimeError(TRACING_ERROR)
        if self.config.batch_first and inputs.dim() == 3:
            inputs = inputs.transpose(0, 1)
        steps, batch = self._check_inputs(inputs)
        lengths = self._check_lengths(lengths, steps, batch, inputs.device)
        if state is None:
            state = self.initial_state(batch)
        else:
            self._check_state(state, batch)
        reason = fused.why_not(self.cell, inputs, trace)
        if reason is None:
            logits, state = fused_run(self.cell, inputs, state, lengths)
            step_trace = None
        else:
            fused.warn_once(reason)
            logits, state, step_trace = self._eager(inputs, state, lengths, trace)
        if self.config.batch_first:
            logits = logits.transpose(0, 1)
        return (logits, state, step_trace) if trace else (logits, state)

    def _eager(
        self, inputs: torch.Tensor, state: NTMState, lengths: torch.Tensor | None, trace: bool
    ) -> tuple[torch.Tensor, NTMState, Trace | None]:
        """The step loop of `NTMCell` in PyTorch (`ntmkit.cell.unroll`)."""
        masks = self.cell.dropout_masks(inputs.shape[0], inputs.shape[1], inputs.dtype)
        logits, state, states, step_traces = unroll(
            self.cell, inputs, state, lengths, masks, keep_steps=trace
        )
        return logits, state, _stack_trace(states, step_traces) if trace else None

    def _check_inputs(self, inputs: torch.Tensor) -> tuple[int, int]:
        expected = (
            "[batch, time, features]" if self.config.batch_first else "[time, batch, features]"
        )
        if inputs.dim() != 3 or inputs.shape[-1] != self.config.input_size:
            raise ValueError(
                f"inputs must have shape {expected} with features={self.config.input_size}, "
                f"got {list(inputs.shape)}"
            )
        if inputs.shape[0] == 0 or inputs.shape[1] == 0:
            raise ValueError(
                f"inputs must have at least one step and one sequence, got {list(inputs.shape)}"
            )
        self._check_values("inputs", inputs)
        return inputs.shape[0], inputs.shape[1]

    def _check_values(self, where: str, x: torch.Tensor) -> None:
        """``x`` on the model's device, in its dtype, and finite: else a one-line error (a
        NaN input would otherwise spread through memory into every later output)."""
        weight = next(self.parameters())
        if x.device != weight.device:
            raise ValueError(
                f"{where} must be on the model's device {weight.device}, got {x.device} "
                f"(move one with .to())"
            )
        if x.dtype != weight.dtype:
            raise ValueError(
                f"{where} must have the model's dtype {weight.dtype}, got {x.dtype} "
                f"(convert with .to({weight.dtype}))"
            )
        if not exporting() and not _all_finite(x):
            raise ValueError(f"{where} must be finite, got NaN or infinite values")

    def _check_state(self, state: NTMState, batch: int) -> None:
        """A given state must be an `NTMState` of this model for ``batch`` sequences: each
        tensor the shape `initial_state` gives, on the model's device, in its dtype, finite."""
        if not isinstance(state, NTMState):
            raise ValueError(f"state must be an ntmkit.NTMState, got {type(state).__name__}")
        expected = _state_tensors(self.initial_state(batch))
        given = _state_tensors(state)
        if list(given) != list(expected):
            raise ValueError(
                f"state must hold {len(expected)} tensors ({', '.join(expected)}) for this "
                f"model, got {len(given)} ({', '.join(given)})"
            )
        for name, tensor in given.items():
            where = f"state.{name}"
            if not isinstance(tensor, torch.Tensor):
                raise ValueError(f"{where} must be a tensor, got {type(tensor).__name__}")
            shape = list(expected[name].shape)
            if list(tensor.shape) != shape:
                raise ValueError(
                    f"{where} must have shape {shape} (a batch of {batch} with this model's "
                    f"sizes), got {list(tensor.shape)}"
                )
            self._check_values(where, tensor)

    @staticmethod
    def _check_lengths(
        lengths: torch.Tensor | None, steps: int, batch: int, device: torch.device
    ) -> torch.Tensor | None:
        """``lengths`` as a validated integer tensor `[B]`, or None."""
        if lengths is None:
            return None
        lengths = torch.as_tensor(lengths, device=device)
        if lengths.shape != (batch,) or lengths.dtype.is_floating_point:
            raise ValueError(f"lengths must be an integer tensor of shape [{batch}], got {lengths}")
        if exporting():  # the values are not known while exporting
            return lengths
        if bool((lengths < 1).any()) or bool((lengths > steps).any()):
            raise ValueError(
                f"lengths must lie in 1..{steps} (the number of steps), got {lengths.tolist()}"
            )
        return lengths


class NTMLayer(nn.Module):
    """An NTM as one layer of your own model: ``outputs = layer(inputs)``, the state left out,
    so it fits `torch.nn.Sequential` between, say, an embedding and a classifier head.

    Takes an `NTMConfig` or its fields; ``batch_first`` defaults to True here, as in most
    models built around a layer (inputs and outputs `[B, T, F]`)::

        model = nn.Sequential(
            nn.Embedding(vocabulary, 16),
            NTMLayer(input_size=16, output_size=32, controller="lstm"),
            nn.Linear(32, classes),
        )

    It runs `NTM.forward`, so the fused engine runs it where it runs any NTM: on the CPU, in
    float32 or float64, without the sign gates and with at most 64 heads; otherwise (a GPU,
    bfloat16, ``ntmkit.engine.use("eager")``) the eager loop does, and says why once.
    """

    def __init__(self, config: NTMConfig | None = None, **fields: Any) -> None:
        super().__init__()
        if config is None:
            config = NTMConfig(**{"batch_first": True, **fields})
        elif fields:
            raise ValueError("NTMLayer takes an NTMConfig or its fields, not both")
        self.config = config
        self.ntm = NTM(config)

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """The NTM's outputs for ``inputs`` (see `NTM.forward`), without its final state."""
        outputs: torch.Tensor = self.ntm(inputs, lengths=lengths)[0]
        return outputs
