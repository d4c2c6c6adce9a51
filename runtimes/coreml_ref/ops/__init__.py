"""MIL operations in numpy: one small function per op, registered by its MIL name in `OPS`.

Semantics follow coremltools' op definitions (coremltools/converters/mil/mil/ops/defs/iOS15..18),
parameter names and defaults included, so an op's keyword arguments are the MIL op's inputs.
One module per family (elementwise, unary, activations, cast, shape, slicing, rearrange,
creation, gather, scatter, sorting, linalg, reductions, normalization, conv, pooling, resize,
constexpr, recurrent); `registry` holds the table and what they share. Importing this package registers
every op; another module registers more with `from runtimes.coreml_ref.ops import op`.

Precision convention (the evaluator applies the last step, not the op):
- Float inputs are widened to float32 and the op computes in float32; the evaluator then rounds
  the result once to the output's declared dtype (float16 in the fp16 program). For add, sub,
  mul and real_div this equals IEEE float16 arithmetic exactly: float32 has 24 significand bits
  >= 2 * 11 + 2, so rounding twice cannot differ from rounding once.
- Sums inside conv, linear, matmul, softmax and the reductions accumulate in float32 and round
  once at the end. Core ML does not document its accumulator width per device (CPU, GPU, Neural
  Engine); float32 is the assumption here, and the fp16 tolerance policy absorbs the difference.
- erf (numpy has none) is computed in float64 with `math.erf`, then rounded.
- Integer ops compute in int32 with two's-complement wrap-around.
An op given something this package cannot compute exactly as specified raises `Unsupported`
(the evaluator turns it into a HarnessError naming the op and the model) rather than guess.
"""

from __future__ import annotations

from runtimes.coreml_ref.ops import (  # noqa: F401  (importing a module registers its ops)
    activations,
    cast,
    constexpr,
    conv,
    creation,
    elementwise,
    gather,
    linalg,
    normalization,
    pooling,
    rearrange,
    recurrent,
    reductions,
    resize,
    scatter,
    shape,
    slicing,
    sorting,
    unary,
)
from runtimes.coreml_ref.ops.registry import DATA_MOVEMENT, OPS, WANTS_OPSET, OpFn, Unsupported, op

__all__ = ["DATA_MOVEMENT", "OPS", "WANTS_OPSET", "OpFn", "Unsupported", "op"]
