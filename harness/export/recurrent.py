"""Keras 3 recurrent layers traced into a graph that coremltools 9 converts.

Why this exists. Keras 3 runs LSTM, GRU and SimpleRNN as `tf.while_loop(cond, body,
maximum_iterations=T)` (keras/src/backend/tensorflow/rnn.py, `rnn`), and TF's while_v2 then
puts `Less(loop_counter, maximum_iterations)` into the loop's cond function, AND-ed with the
user condition `time < T`. coremltools 9's TF2 frontend, in
`frontend/tensorflow2/tf_graph_pass/rewrite_control_flow_functions.py` lines 377-380
(`_eliminate_loop_cond_nodes`), pops the cond function's first two inputs (loop counter and
maximum iterations) and deletes those nodes, assuming nothing in the cond graph reads them (its
docstring draws them "not connected"). Deleting them disconnects that `Less`, which is left with
no inputs, and `frontend/tensorflow/ops.py` line 754 (`Less`: `context[node.inputs[0]]`) raises
IndexError "list index out of range" while the `while_loop` body is being built.

So `convertible(model)` changes how the model is *traced* for export (not its weights, and not
the Keras reference the harness compares against):
- An LSTM with Keras's standard activations (tanh, sigmoid), float32 and no mask becomes one
  `tf.raw_ops.BlockLSTMV2` per layer (and per direction of a Bidirectional): the frontend maps
  that op to MIL's fused `lstm` (tensorflow/ops.py `BlockLSTM` -> `tf_lstm_block`, then the
  `tf_lstm_to_core_lstm` pass), the op Apple's runtime implements natively. Keras's kernel
  columns are already in BlockLSTMV2's [i, f, c, o] order; its `backend.lstm` hook (the one
  Keras uses for cuDNN) is where the substitution happens.
- Every other recurrent layer (GRU, SimpleRNN, a masked or non-standard LSTM) is traced with
  Keras's own `unroll=True` path: the same cell code, one step per timestep, no loop.
  GRU is not fused because no fused form fits: the TF frontend maps no TF op to MIL `gru`, and
  MIL's iOS15 `gru` applies the reset gate before the recurrent matmul (Keras `reset_after=False`),
  while Keras 3's default is `reset_after=True` (iOS18's `reset_after` flag has Apple's own
  parity test marked xfail, rdar://128479517, and is past this exporter's iOS15 target).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from harness.core.errors import HarnessError


def recurrent_layers(model: Any) -> list[Any]:
    """Every Keras RNN layer inside `model` (nested models and Bidirectional wrappers included)."""
    from runtimes.frameworks import import_keras

    keras = import_keras()
    return [layer for layer in model._flatten_layers(include_self=False) if isinstance(layer, keras.layers.RNN)]


def _fused_lstm(used: set[int]) -> Any:
    """A drop-in for keras.src.backend.lstm that emits BlockLSTMV2, or declines (NotImplementedError,
    which makes Keras run its generic loop, unrolled here) when the layer is not a plain LSTM."""
    import tensorflow as tf
    from keras.src import activations

    # Keras's own signature (keras.src.backend.tensorflow.rnn.lstm), which Keras calls positionally.
    def lstm(  # noqa: PLR0917
        inputs: Any,
        initial_state_h: Any,
        initial_state_c: Any,
        mask: Any,
        kernel: Any,
        recurrent_kernel: Any,
        bias: Any,
        activation: Any,
        recurrent_activation: Any,
        return_sequences: bool = False,
        go_backwards: bool = False,
        unroll: bool = False,
        time_major: bool = False,
    ) -> Any:
        del unroll  # fused either way: the same arithmetic as Keras's loop, one MIL op
        steps = inputs.shape[0 if time_major else 1]
        if (
            mask is not None
            or steps is None
            or activation is not activations.tanh
            or recurrent_activation is not activations.sigmoid
            or inputs.dtype != tf.float32
        ):
            raise NotImplementedError
        k = tf.convert_to_tensor(kernel)
        u = tf.convert_to_tensor(recurrent_kernel)
        units = int(u.shape[0])
        b = tf.zeros([4 * units], tf.float32) if bias is None else tf.convert_to_tensor(bias)
        x = inputs if time_major else tf.transpose(inputs, [1, 0, 2])  # BlockLSTMV2 is time-major
        if go_backwards:
            x = tf.reverse(x, [0])
        no_peephole = tf.zeros([units], tf.float32)
        _, cs, _, _, _, _, h = tf.raw_ops.BlockLSTMV2(
            seq_len_max=tf.constant(steps, tf.int64),
            x=x,
            cs_prev=initial_state_c,
            h_prev=initial_state_h,
            w=tf.concat([k, u], axis=0),  # [I + H, 4H], gates i, f, c, o: Keras's own column order
            wci=no_peephole,
            wcf=no_peephole,
            wco=no_peephole,
            b=b,
            cell_clip=0.0,  # <= 0: no clipping (the frontend maps it to clip=None)
            use_peephole=False,
        )
        used.add(id(kernel))
        last = h[-1]
        # Keras's return convention (as its cuDNN path): outputs in processing order, batch-major
        if return_sequences:
            outputs = h if time_major else tf.transpose(h, [1, 0, 2])
        else:
            outputs = tf.expand_dims(last, 0 if time_major else 1)
        return last, outputs, [last, cs[-1]]

    return lstm


@contextmanager
def convertible(model: Any) -> Iterator[list[dict[str, str]]]:
    """Trace `model` inside this block to get a graph without while loops (see the module doc).
    Yields the plan, filled in when the block ends: one {"layer", "class", "path"} per recurrent
    layer, path "fused" (MIL lstm) or "unrolled"."""
    from keras.src import backend as keras_backend

    layers = recurrent_layers(model)
    for layer in layers:
        if getattr(layer, "stateful", False):
            raise HarnessError(
                f"recurrent layer {layer.name!r} is stateful: its output depends on earlier calls, "
                "so it has no single ML Program to export"
            )
    plan: list[dict[str, str]] = []
    used: set[int] = set()
    saved_unroll = [(layer, layer.unroll) for layer in layers]
    saved_lstm = keras_backend.lstm
    keras_backend.lstm = _fused_lstm(used)
    try:
        for layer in layers:
            layer.unroll = True
        yield plan
    finally:
        keras_backend.lstm = saved_lstm
        for layer, unroll in saved_unroll:
            layer.unroll = unroll
    for layer in layers:
        kernel = getattr(layer.cell, "kernel", None)
        fused = kernel is not None and id(kernel) in used
        plan.append({"layer": layer.name, "class": type(layer).__name__, "path": "fused" if fused else "unrolled"})
