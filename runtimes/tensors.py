"""What a runtime can show of a model's inside: its tensor graph and the values of named tensors.

`harness compare --layers` (harness/check/layers.py) asks every session for these. The Keras
reference names its tensors after its layers (`Probe`: a layer's output, the value before its
activation, an RNN's final cell state); a converted artifact names its tensors after the graph
nodes or MIL ops the converter wrote (`GraphNode`, in the artifact's own op order), and the
check layer derives which node stands for which probe from those names and the graph's
structure. A runtime that cannot show a tensor raises `CannotExpose` with the reason, which
the view prints instead of a number.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.core.errors import HarnessError

# Probe kinds: the layer's output; its value before a separable activation; an RNN's final cell state.
OUTPUT, PRE, STATE_C = "output", "pre", "state_c"


class CannotExpose(HarnessError):
    """This runtime cannot show intermediate tensors (or this one); the message says why."""


@dataclass(frozen=True)
class Probe:
    """One tensor of the Keras model worth comparing across runtimes."""

    name: str  # what KerasSession.intermediates takes: "conv", "conv:pre", "lstm:state_c"
    layer: str  # the Keras layer it belongs to
    kind: str  # OUTPUT, PRE or STATE_C
    layer_class: str  # "Conv1D", "LSTM", ...
    shape: tuple[int | None, ...]  # None: the batch (or another flexible) dimension
    activation: str | None = None  # the layer's activation, when it has a non-linear one
    inbound: tuple[str, ...] = ()  # layers whose outputs feed this layer
    direction: str = ""  # "forward" / "backward": which half of a Bidirectional a state belongs to

    @property
    def label(self) -> str:
        if self.kind == PRE:
            return f"{self.layer} (before {self.activation})"
        if self.kind == STATE_C:
            return f"{self.layer} ({self.direction + ' ' if self.direction else ''}final cell state c)"
        return self.layer


@dataclass(frozen=True)
class GraphNode:
    """One tensor of a converted graph, in the artifact's op order."""

    name: str  # what the session's intermediates takes (TF.js node name, MIL variable name)
    op: str  # "GatherV2", "_FusedConv2D", "conv", "lstm", ...
    inputs: tuple[str, ...] = ()  # names of the tensors it reads (constants left out)
    fused: tuple[str, ...] = ()  # ops fused into it ("BiasAdd", "Relu"), when the converter fused some
    output_index: int = 0  # which output of its op (an MIL lstm has three: sequence, h, c)
    shape: tuple[int | None, ...] | None = None  # declared shape when the artifact records one
    alias: str = ""  # another name the converter gave it (an MIL op's own name: the program's
    # output variable is renamed "scores", but its op keeps the TF scope)


@dataclass(frozen=True)
class TensorGraph:
    """A session's tensors: Keras probes (`probes`) or a converted graph's nodes (`nodes`)."""

    nodes: tuple[GraphNode, ...] = ()
    probes: tuple[Probe, ...] = ()
    separator: str = "/"  # how the converter joined name scopes ("/" TF, "_" coremltools)
    model: str = ""  # Keras probes: the model's name, the outer name scope of every converted node

    @property
    def is_keras(self) -> bool:
        return bool(self.probes)
