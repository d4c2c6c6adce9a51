"""MIL's recurrent ops (lstm, gru, rnn), in numpy. The tensor ops exported recurrent models also
need (split, fill, reverse, tile, concat of scalars) are in slicing.py and creation.py.

What the harness's exporter produces from Keras (harness/export/recurrent.py): an LSTM becomes
one fused `lstm` op (fp32 only before iOS17, so the fp16 program casts around it); GRU and
SimpleRNN are unrolled into matmul/add/sigmoid/tanh/mul/sub with `split`, `squeeze`,
`slice_by_index`, and `fill` for the zero initial state; a masked RNN (Embedding(mask_zero=True))
is unrolled too and adds `tile`; a fused Bidirectional LSTM adds `reverse`. `gru` and `rnn`
are here for programs made by other converters and for Apple's op tests.

Semantics follow coremltools 9's op definitions (mil/ops/defs/iOS15/recurrent.py, iOS17 adds
fp16, iOS18 adds gru's reset_after and input_bias). Where the docstring is ambiguous, the
numpy references in Apple's own op tests (mil/ops/tests/iOS14/test_recurrent.py), which run
against Core ML on macOS, decide; each such choice is cited where it is made.

Precision: gates and states are computed in float32 (matmuls accumulate in float32), as the
other ops. When the op's tensors are float16 (iOS17+), the hidden and cell states carried from
one step to the next are rounded to float16 each step, since every h_t is itself an fp16
output of the op (output_sequence); the gates inside a step are not. Core ML documents neither.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from runtimes.coreml_ref.ops.registry import Unsupported, op

F32 = np.float32


def _wide(x: Any) -> np.ndarray:
    """Float tensors as float32 (exact for float16)."""
    return np.asarray(x).astype(F32, copy=False)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return F32(1) / (F32(1) + np.exp(-x))


# lstm's docstring lists these six (case-insensitive); rnn's says `sigmoid_hard` for hard_sigmoid.
# Apple's test reference (_apply_act in test_recurrent.py): "All activation functions use their
# standard default values. This makes `tanh` equivalent to `scaled_tanh`", and hard_sigmoid is
# min(max(0.2 x + 0.5, 0), 1).
_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "scaled_tanh": np.tanh,
    "hard_sigmoid": lambda x: np.minimum(np.maximum(F32(0.2) * x + F32(0.5), F32(0)), F32(1)),
    "sigmoid_hard": lambda x: np.minimum(np.maximum(F32(0.2) * x + F32(0.5), F32(0)), F32(1)),
    "relu": lambda x: np.maximum(x, F32(0)),
    "linear": lambda x: x,
}


def _activation(name: Any) -> Callable[[np.ndarray], np.ndarray]:
    fn = _ACTIVATIONS.get(str(name).lower())
    if fn is None:
        raise Unsupported(f"recurrent activation {name!r}")
    return fn


def _carry(x: Any) -> Callable[[np.ndarray], np.ndarray]:
    """How a state is stored between steps: float16 when the op's tensors are (see module doc)."""
    if np.asarray(x).dtype == np.float16:
        return lambda a: a.astype(np.float16).astype(F32)
    return lambda a: a


def _sequence(x: Any, initial: Any, width: int, *, name: str) -> tuple[np.ndarray, int, int]:
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[0] == 0:
        raise Unsupported(f"{name} x of shape {list(x.shape)}; expected [s >= 1, b, I]")
    s, b, _ = x.shape
    if np.shape(initial) != (b, width):
        raise Unsupported(f"{name} initial state of shape {list(np.shape(initial))}; expected [{b}, {width}]")
    return x, s, b


def _weights(w_ih: Any, w_hh: Any, gates: int, *, input_size: int, name: str) -> tuple[np.ndarray, np.ndarray, int]:
    w_ih, w_hh = _wide(w_ih), _wide(w_hh)
    if w_hh.ndim != 2 or w_ih.ndim != 2:
        raise Unsupported(f"{name} weights of rank {w_ih.ndim} and {w_hh.ndim}; expected 2")
    hidden = w_hh.shape[1]
    if w_hh.shape[0] != gates * hidden or w_ih.shape != (gates * hidden, input_size):
        raise Unsupported(
            f"{name} weight_ih {list(w_ih.shape)}, weight_hh {list(w_hh.shape)}; "
            f"expected [{gates}*H, {input_size}] and [{gates}*H, H]"
        )
    return w_ih, w_hh, hidden


def _vector(v: Any, size: int, what: str) -> np.ndarray:
    if v is None:
        return np.zeros(size, F32)
    v = _wide(v)
    if v.shape != (size,):
        raise Unsupported(f"{what} of shape {list(v.shape)}; expected [{size}]")
    return v


def _order(s: int, reverse: bool) -> range:
    return range(s - 1, -1, -1) if reverse else range(s)


# --- lstm ------------------------------------------------------------------------------------


def _lstm_direction(
    x: np.ndarray,
    h: np.ndarray,
    c: np.ndarray,
    *,
    weights: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    reverse: bool,
    acts: tuple[Callable, Callable, Callable],
    clip: float | None,
    carry: Callable[[np.ndarray], np.ndarray],
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """One direction; returns the h of every step in processing order, and the final h, c.
    `weights`: (w_ih, w_hh, bias, peephole) of that direction."""
    w_ih, w_hh, bias, peephole = weights
    recurrent_act, cell_act, act = acts
    hidden = w_hh.shape[1]
    p_i, p_f, p_o = np.split(peephole, 3)
    xw = x @ w_ih.T + bias  # [s, b, 4H]: the input half of every gate, all steps at once
    steps = []
    for t in _order(x.shape[0], reverse):
        g = xw[t] + h @ w_hh.T
        # Weight and bias rows are [input, forget, output, cell] ("ifoz layout" in the input spec).
        g_i, g_f, g_o, g_z = (g[:, k * hidden : (k + 1) * hidden] for k in range(4))
        i = recurrent_act(g_i + p_i * c)  # peepholes see c_{t-1} for i and f ...
        f = recurrent_act(g_f + p_f * c)
        z = cell_act(g_z)
        c = f * c + i * z
        if clip is not None:
            # The docstring says "Cell gate is clipped to [-clip, +clip]"; Apple's test reference
            # clips the cell STATE after the update (`c = _clip(c, clip)`), before the output gate.
            c = np.clip(c, F32(-clip), F32(clip))
        o = recurrent_act(g_o + p_o * c)  # ... and c_t for o (test_numpy_numerical's reference)
        h = o * act(c)
        h, c = carry(h), carry(c)
        steps.append(h)
    return steps, h, c


@op()
def lstm(
    x: Any,
    initial_h: Any,
    initial_c: Any,
    *,
    weight_ih: Any,
    weight_hh: Any,
    bias: Any = None,
    peephole: Any = None,
    weight_ih_back: Any = None,
    weight_hh_back: Any = None,
    bias_back: Any = None,
    peephole_back: Any = None,
    direction: Any = "forward",
    output_sequence: Any = False,
    recurrent_activation: Any = "sigmoid",
    cell_activation: Any = "tanh",
    activation: Any = "tanh",
    clip: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x [s, b, I] -> (h of every step [s, b, D*H] or of the last [1, b, D*H], final h, final c).

    Directions, as Apple's tests check them against torch.nn.LSTM on Core ML:
    - "reverse" reads x from the last step to the first and returns its outputs in that
      processing order (test_builder_to_backend_smoke_unilstm: torch run on the flipped input).
    - "bidirectional": the forward half [:, :H] uses weight_ih/weight_hh/bias/peephole and
      initial_h[:, :H]; the backward half the *_back inputs and initial_h[:, H:]. The backward
      outputs are aligned with input positions (torch's bidirectional output), and without
      output_sequence the output is [forward's last step, backward's last step (position 0)]
      (test_builder_to_backend_smoke_bidirlstm).
    """
    direction = str(direction)
    if direction not in ("forward", "reverse", "bidirectional"):
        raise Unsupported(f"lstm direction {direction!r}")
    dirs = 2 if direction == "bidirectional" else 1
    w_ih, w_hh, hidden = _weights(weight_ih, weight_hh, 4, input_size=np.shape(x)[-1], name="lstm")
    x, s, b = _sequence(x, initial_h, dirs * hidden, name="lstm")
    if np.shape(initial_c) != (b, dirs * hidden):
        raise Unsupported(f"lstm initial_c of shape {list(np.shape(initial_c))}; expected [{b}, {dirs * hidden}]")
    acts = (_activation(recurrent_activation), _activation(cell_activation), _activation(activation))
    clip_value = None if clip is None else float(np.asarray(clip))
    carry = _carry(x)
    xf, h0, c0 = _wide(x), _wide(initial_h), _wide(initial_c)
    fwd = (w_ih, w_hh, _vector(bias, 4 * hidden, "lstm bias"), _vector(peephole, 3 * hidden, "lstm peephole"))
    if dirs == 1:
        steps, h, c = _lstm_direction(
            xf, h0, c0, weights=fwd, reverse=direction == "reverse", acts=acts, clip=clip_value, carry=carry
        )
        seq = np.stack(steps) if bool(output_sequence) else steps[-1][None]
        return seq, h, c
    if weight_ih_back is None or weight_hh_back is None:
        raise Unsupported("bidirectional lstm without weight_ih_back / weight_hh_back")
    w_ih_b, w_hh_b, hidden_b = _weights(weight_ih_back, weight_hh_back, 4, input_size=x.shape[-1], name="lstm (back)")
    if hidden_b != hidden:
        raise Unsupported(f"bidirectional lstm with hidden sizes {hidden} and {hidden_b}")
    bwd = (
        w_ih_b,
        w_hh_b,
        _vector(bias_back, 4 * hidden, "lstm bias_back"),
        _vector(peephole_back, 3 * hidden, "lstm peephole_back"),
    )
    f_steps, f_h, f_c = _lstm_direction(
        xf, h0[:, :hidden], c0[:, :hidden], weights=fwd, reverse=False, acts=acts, clip=clip_value, carry=carry
    )
    b_steps, b_h, b_c = _lstm_direction(
        xf, h0[:, hidden:], c0[:, hidden:], weights=bwd, reverse=True, acts=acts, clip=clip_value, carry=carry
    )
    if bool(output_sequence):
        seq = np.concatenate([np.stack(f_steps), np.stack(b_steps[::-1])], axis=-1)  # backward re-aligned
    else:
        seq = np.concatenate([f_h, b_h], axis=-1)[None]
    return seq, np.concatenate([f_h, b_h], axis=-1), np.concatenate([f_c, b_c], axis=-1)


# --- gru -------------------------------------------------------------------------------------


@op()
def gru(
    x: Any,
    initial_h: Any,
    weight_ih: Any,
    *,
    weight_hh: Any,
    bias: Any = None,
    direction: Any = "forward",
    output_sequence: Any = False,
    recurrent_activation: Any = "sigmoid",
    activation: Any = "tanh",
    reset_after: Any = False,
    input_bias: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """x [s, b, I] -> (h of every step [s, b, H] or of the last [1, b, H], final h).

    Rows of weights and biases are [reset, output (new), update] ([W_ir | W_io | W_iz]).
    The docstring's `r_t * W_ho h_{t-1}` is ambiguous; Apple's test reference
    (TestGRU.test_builder_to_backend_smoke) multiplies BEFORE the matmul, o = act(W_o x +
    R_o (r * h) + b_o): Keras's reset_after=False. `bias` is the single iOS15 bias;
    iOS18's `input_bias` adds to the input side. "reverse" returns outputs in processing order
    (the same reference: `batch_x = X[::-1]`, no flip back).
    """
    if bool(reset_after):
        # iOS18 "reset_after": Apple's own torch parity test for it is xfail (rdar://128479517)
        raise Unsupported("gru with reset_after=True (semantics not established by the spec or Apple's tests)")
    direction = str(direction)
    if direction not in ("forward", "reverse"):
        raise Unsupported(f"gru direction {direction!r}")
    w_ih, w_hh, hidden = _weights(weight_ih, weight_hh, 3, input_size=np.shape(x)[-1], name="gru")
    x, s, b = _sequence(x, initial_h, hidden, name="gru")
    recurrent_act, act = _activation(recurrent_activation), _activation(activation)
    carry = _carry(x)
    bias_ = _vector(bias, 3 * hidden, "gru bias") + _vector(input_bias, 3 * hidden, "gru input_bias")
    xw = _wide(x) @ w_ih.T + bias_  # [s, b, 3H]
    u_r, u_o, u_z = (w_hh[k * hidden : (k + 1) * hidden] for k in range(3))
    h = _wide(initial_h)
    steps = []
    for t in _order(s, direction == "reverse"):
        x_r, x_o, x_z = (xw[t][:, k * hidden : (k + 1) * hidden] for k in range(3))
        r = recurrent_act(x_r + h @ u_r.T)
        z = recurrent_act(x_z + h @ u_z.T)
        o = act(x_o + (r * h) @ u_o.T)
        h = carry((F32(1) - z) * o + z * h)
        steps.append(h)
    seq = np.stack(steps) if bool(output_sequence) else steps[-1][None]
    return seq, h


# --- rnn -------------------------------------------------------------------------------------


@op()
def rnn(
    x: Any,
    initial_h: Any,
    weight_ih: Any,
    *,
    weight_hh: Any,
    bias: Any = None,
    direction: Any = "forward",
    output_sequence: Any = False,
    activation: Any = "tanh",
) -> tuple[np.ndarray, np.ndarray]:
    """h_t = activation(W_ih x_t + W_hh h_{t-1} + b); "reverse" in processing order (TestRNN:
    torch run on the flipped input)."""
    direction = str(direction)
    if direction not in ("forward", "reverse"):
        raise Unsupported(f"rnn direction {direction!r}")
    w_ih, w_hh, hidden = _weights(weight_ih, weight_hh, 1, input_size=np.shape(x)[-1], name="rnn")
    x, s, b = _sequence(x, initial_h, hidden, name="rnn")
    act = _activation(activation)
    carry = _carry(x)
    xw = _wide(x) @ w_ih.T + _vector(bias, hidden, "rnn bias")
    h = _wide(initial_h)
    steps = []
    for t in _order(s, direction == "reverse"):
        h = carry(act(xw[t] + h @ w_hh.T))
        steps.append(h)
    seq = np.stack(steps) if bool(output_sequence) else steps[-1][None]
    return seq, h
