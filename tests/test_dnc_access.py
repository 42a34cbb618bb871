"""One step of the DNC's memory access: the interface split, a rollout against a naive NumPy
version written from the paper's Methods, float64 gradients through several steps, and the
two behaviours the DNC adds to the NTM: a freed slot is written again, and a read head walks
the slots in the order they were written."""

import numpy as np
import torch
from dnc_naive import B, N, R, W, naive_step

from ntmkit.dnc_access import DNCAccessState, access_step, initial_access_state
from ntmkit.heads import DNCInterface, dnc_interface, dnc_interface_fields


def _interface(seed: int, dtype=torch.float64) -> DNCInterface:
    g = torch.Generator().manual_seed(seed)
    size = sum(dnc_interface_fields(R, W).values())
    return dnc_interface(torch.randn(B, size, generator=g, dtype=dtype), R, W)


def test_the_interface_vector_is_split_in_the_papers_order_with_its_activations():
    assert sum(dnc_interface_fields(R, W).values()) == W * R + 3 * W + 5 * R + 3
    fields = dnc_interface_fields(R, W)
    parts = {
        name: torch.full((B, width), float(i)) for i, (name, width) in enumerate(fields.items())
    }
    split = dnc_interface(torch.cat(list(parts.values()), -1), R, W)
    assert (split.read_keys == 0).all() and (split.write_key == 2).all()
    assert (split.write_vector == 5).all()  # keys and the write vector pass unchanged
    torch.testing.assert_close(split.read_strengths, torch.full((B, R, 1), 1 + np.log1p(np.e)))
    assert (split.write_gate == torch.sigmoid(torch.tensor(8.0))).all()
    torch.testing.assert_close(split.read_modes.sum(-1), torch.ones(B, R))
    shapes = {name: tuple(getattr(split, name).shape) for name in DNCInterface._fields}
    assert shapes == {"read_keys": (B, R, W), "read_strengths": (B, R, 1), "write_key": (B, 1, W),
                      "write_strength": (B, 1, 1), "erase": (B, 1, W), "write_vector": (B, 1, W),
                      "free_gates": (B, R), "allocation_gate": (B, 1), "write_gate": (B, 1),
                      "read_modes": (B, R, 3)}  # fmt: skip


def test_a_rollout_matches_the_naive_step_of_the_paper():
    memory = torch.randn(B, N, W, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    state = initial_access_state(memory, R)
    naive = [{k: v[b].numpy() for k, v in state._asdict().items()} for b in range(B)]
    for step in range(6):
        interface = _interface(step)
        reads, state, _ = access_step(state, interface)
        for b in range(B):
            xi = {k: v[b].numpy() for k, v in interface._asdict().items()}
            naive_reads, naive[b] = naive_step(naive[b], xi)
            np.testing.assert_allclose(reads[b].numpy(), naive_reads, rtol=1e-10, atol=1e-12)
            for name, value in state._asdict().items():
                np.testing.assert_allclose(value[b].numpy(), naive[b][name], rtol=1e-10, atol=1e-12)


def test_gradients_through_three_steps_are_exact_in_float64():
    size = sum(dnc_interface_fields(R, W).values())
    xis = torch.randn(3, B, size, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    memory = torch.randn(B, N, W, dtype=torch.float64, generator=torch.Generator().manual_seed(2))

    def rollout(xis: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        state, outputs = initial_access_state(memory, R), []
        for xi in xis:
            reads, state, _ = access_step(state, dnc_interface(xi, R, W))
            outputs.append(reads)
        return torch.stack(outputs)

    assert torch.autograd.gradcheck(rollout, (xis.requires_grad_(), memory.requires_grad_()))


def _gates(write=1.0, allocation=1.0, free=0.0, modes=(0.0, 1.0, 0.0), key=None, vector=None):
    """A hand-set interface for one sequence with one read head (a sharp content lookup)."""
    key = torch.zeros(W) if key is None else key
    vector = torch.zeros(W) if vector is None else vector
    return DNCInterface(
        read_keys=key.view(1, 1, W), read_strengths=torch.full((1, 1, 1), 100.0),
        write_key=torch.zeros(1, 1, W), write_strength=torch.ones(1, 1, 1),
        erase=torch.ones(1, 1, W), write_vector=vector.view(1, 1, W),
        free_gates=torch.full((1, 1), free), allocation_gate=torch.full((1, 1), allocation),
        write_gate=torch.full((1, 1), write), read_modes=torch.tensor(modes).view(1, 1, 3),
    )  # fmt: skip


def _two_slots_written() -> tuple[DNCAccessState, torch.Tensor, torch.Tensor]:
    v1, v2 = torch.tensor([1.0, -1, 1, -1]), torch.tensor([-1.0, -1, 1, 1])
    state = initial_access_state(torch.zeros(1, 2, W), read_heads=1)  # two slots only
    _, state, _ = access_step(state, _gates(vector=v1, key=v1))
    _, state, _ = access_step(state, _gates(vector=v2, key=v1))
    return state, v1, v2


def test_a_freed_slot_is_allocated_again_so_a_small_memory_holds_a_long_stream():
    state, v1, v2 = _two_slots_written()
    torch.testing.assert_close(state.memory[0], torch.stack([v1, v2]))  # slot 0, then slot 1
    reads, state, _ = access_step(state, _gates(write=0.0, key=v1))  # read v1 back, write nothing
    torch.testing.assert_close(reads[0], v1, atol=1e-3, rtol=0)
    v3 = torch.tensor([1.0, 1, 1, 1])
    _, state, _ = access_step(state, _gates(free=1.0, vector=v3, key=v2))  # free what was read
    torch.testing.assert_close(state.memory[0], torch.stack([v3, v2]), atol=1e-3, rtol=0)


def test_a_read_head_steps_forward_to_the_slot_written_next():
    state, v1, v2 = _two_slots_written()
    reads, state, _ = access_step(state, _gates(write=0.0, key=v1))  # at v1
    reads, state, _ = access_step(state, _gates(write=0.0, modes=(0.0, 0.0, 1.0)))  # forward
    torch.testing.assert_close(reads[0], v2, atol=1e-3, rtol=0)
    reads, state, _ = access_step(state, _gates(write=0.0, modes=(1.0, 0.0, 0.0)))  # and back
    torch.testing.assert_close(reads[0], v1, atol=1e-3, rtol=0)


def test_each_sequence_of_a_batch_steps_as_if_alone():
    memory = torch.randn(B, N, W, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    together = initial_access_state(memory, R)
    alone = [initial_access_state(memory[b : b + 1], R) for b in range(B)]
    for step in range(3):
        interface = _interface(10 + step)
        reads, together, _ = access_step(together, interface)
        for b in range(B):
            one = DNCInterface(*(field[b : b + 1] for field in interface))
            single, alone[b], _ = access_step(alone[b], one)
            torch.testing.assert_close(reads[b : b + 1], single, rtol=0, atol=1e-15)
