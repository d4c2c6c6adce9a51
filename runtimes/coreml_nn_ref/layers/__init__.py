"""NeuralNetwork layers in numpy: one builder per layer type, registered by its proto name.

One module per family (elementwise, activations, shape, linalg, conv, reductions, gather,
recurrent);
`registry` holds the table and what they share. Control flow (loop, branch, copy, loopBreak,
loopContinue) is not here: it runs sub-networks, so `network` implements it. Importing this
package registers every layer.
"""

from __future__ import annotations

from runtimes.coreml_nn_ref.layers import (  # noqa: F401  (importing a module registers its layers)
    activations,
    conv,
    elementwise,
    gather,
    linalg,
    recurrent,
    reductions,
    shape,
)
from runtimes.coreml_nn_ref.layers.registry import LAYERS, UnsupportedLayer, Weights, layer

__all__ = ["LAYERS", "UnsupportedLayer", "Weights", "layer"]
