"""A naive step of the DNC's memory access, one sequence at a time in NumPy loops, written from
the Methods of Graves et al. 2016 (the tests of `ntmkit.dnc_access` and of the DNC model compare
against it), and the sizes those tests use."""

import numpy as np

from ntmkit.numerics import COSINE_EPSILON

B, R, N, W = 2, 2, 5, 4


def _content(memory, key, strength):
    scores = np.array(
        [
            strength * key @ row / np.sqrt((key @ key) * (row @ row) + COSINE_EPSILON)
            for row in memory
        ]
    )
    e = np.exp(scores - scores.max())
    return e / e.sum()


def naive_step(s, xi):
    """State and interface of one sequence as NumPy arrays (dicts), the paper's order."""
    psi = np.prod([1 - xi["free_gates"][i] * s["read_weights"][i] for i in range(R)], axis=0)
    usage = (s["usage"] + s["write_weights"] - s["usage"] * s["write_weights"]) * psi
    a, product = np.zeros(N), 1.0
    for j in sorted(range(N), key=lambda n: (usage[n], n)):
        a[j] = (1 - usage[j]) * product
        product *= usage[j]
    c_w = _content(s["memory"], xi["write_key"][0], xi["write_strength"][0, 0])
    g_a, g_w = xi["allocation_gate"][0], xi["write_gate"][0]
    w_w = g_w * (g_a * a + (1 - g_a) * c_w)
    memory = s["memory"] * (1 - np.outer(w_w, xi["erase"][0])) + np.outer(
        w_w, xi["write_vector"][0]
    )
    link = np.zeros((N, N))
    for i in range(N):
        for j in range(N):
            if i != j:
                link[i, j] = (1 - w_w[i] - w_w[j]) * s["link"][i, j] + w_w[i] * s["precedence"][j]
    precedence = (1 - w_w.sum()) * s["precedence"] + w_w
    w_r = np.zeros((R, N))
    for i in range(R):
        f, b = link @ s["read_weights"][i], link.T @ s["read_weights"][i]
        c = _content(memory, xi["read_keys"][i], xi["read_strengths"][i, 0])
        pi = xi["read_modes"][i]
        w_r[i] = pi[0] * b + pi[1] * c + pi[2] * f
    reads = np.concatenate([w_r[i] @ memory for i in range(R)])
    new = {"memory": memory, "usage": usage, "link": link, "precedence": precedence,
           "read_weights": w_r, "write_weights": w_w}  # fmt: skip
    return reads, new
