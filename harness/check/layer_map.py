"""Which tensor of a converted graph stands for which Keras tensor: derived from the artifact.

Nothing here is written per model. Converters keep Keras's name scopes in their tensor names
(TF.js: `StatefulPartitionedCall/sentiment_cnn_1/conv_1/BiasAdd`; coremltools joins the same
scopes with "_": `sentiment_cnn_1_conv_1_Relu_cast_fp16`), and a graph lists its ops in an
order that respects the data flow. So for each Keras layer:

1. Its nodes are those whose name carries `<model>[_k]<sep><layer>[_k]<sep>`; where two layer
   names could both claim a scope (`dense` + suffix `_1` vs a layer named `dense_1`), the one
   whose suffix matches the model scope's wins, then the longer name.
2. Its candidates are its own nodes, plus nodes of earlier layers that the optimizer moved
   past it (they read its nodes), minus anything that reads a later layer's nodes. The last
   candidate in op order whose shape matches the Keras tensor (singleton dims squeezed; the
   caller checks, on the values) is the layer's output. TF's grappler, for instance, turns
   Conv1D(relu) -> GlobalMaxPool into `relu(max(conv))`: `conv_1/Relu` then reads
   `pool_1/Max`, so it counts as the pool's output, and the conv layer's last tensor is
   `conv_1/BiasAdd`, the value before relu.
3. A layer with an activation: nodes that apply it (op or last name part `Relu`/`Sigmoid`...,
   or a fused op that lists it) and what reads them are "after" the activation; candidates
   that feed an activation node are "before" it. A layer whose activation node was moved past
   a later layer has no post-activation tensor here, and one whose activation was fused into
   its last op has no pre-activation tensor: both are said, not guessed.
4. An LSTM's final cell state: the third output of a fused MIL `lstm` op (output, h, c per the
   MIL spec), or, unrolled, the input of the tanh in `h = o * tanh(c)` that yields the output.
5. A layer with no node of its own (Dropout at inference) is compared at its input's tensor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from runtimes.tensors import OUTPUT, PRE, STATE_C, GraphNode, Probe, TensorGraph

MAX_CANDIDATES = 64  # per probe, last first: the output is nearly always among a layer's last ops
FUSED_LSTM = {"lstm"}  # MIL ops whose outputs are (sequence, h, c)
PASS_THROUGH = {
    "cast",
    "Cast",
    "squeeze",
    "Squeeze",
    "reshape",
    "Reshape",
    "identity",
    "Identity",
    "slice_by_index",
    "StridedSlice",
    "transpose",
    "Transpose",
}
STACK = {"Pack", "stack"}  # an RNN's steps stacked into its sequence output (return_sequences)


@dataclass
class Candidates:
    """Where to look for one probe, best first; `note` says why there is nothing to look at."""

    probe: Probe
    nodes: list[str] = field(default_factory=list)
    note: str = ""
    follows: str = ""  # a probe whose match this one reuses (a layer with no op of its own)


def _norm(text: str) -> str:
    return re.sub(r"_\d+$", "", text).replace("_", "").lower()


class LayerScopes:
    """Which Keras layer's name scope a converted tensor name lies in (rule 1)."""

    def __init__(self, model: str, layers: list[str], sep: str) -> None:
        s = re.escape(sep)
        self.sep = sep
        self._patterns = [
            (layer, re.compile(rf"(?:^|{s}){re.escape(model)}(?P<ms>_\d+)?{s}{re.escape(layer)}(?P<ls>_\d+)?(?:{s}|$)"))
            for layer in layers
        ]

    def of(self, name: str) -> tuple[str, str] | None:
        """(layer, the rest of the name after the layer's scope), or None outside every layer."""
        best: tuple[tuple[bool, int], str, str] | None = None
        for layer, pattern in self._patterns:
            m = pattern.search(name)
            if m is None:
                continue
            key = (m.group("ms") == m.group("ls"), len(layer))
            if best is None or key > best[0]:
                best = (key, layer, name[m.end() :])
        return None if best is None else (best[1], best[2])


def _reach(start: set[str], consumers: dict[str, list[str]]) -> set[str]:
    """`start` and every node that reads from it, directly or not."""
    seen, todo = set(start), list(start)
    while todo:
        for nxt in consumers.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _applies(node: GraphNode, activation: str) -> bool:
    """Does this node apply `activation`: its op, an op fused into it, or its name says so."""
    want = _norm(activation)
    if _norm(node.op) == want or any(_norm(f) == want for f in node.fused):
        return True
    pattern = rf"(?:^|[/_]){re.escape(activation)}(?:_\d+)?(?:_cast_fp16|_cast_fp32)?$"
    return any(re.search(pattern, name, re.I) for name in (node.name, node.alias) if name)


def candidates(reference: TensorGraph, graph: TensorGraph) -> list[Candidates]:
    """For every probe of the reference, the nodes of `graph` that may hold it, best first."""
    probes = list(reference.probes)
    layers = list(dict.fromkeys(p.layer for p in probes))
    scopes = LayerScopes(reference.model, layers, graph.separator)
    nodes = list(graph.nodes)
    by_name = {n.name: n for n in nodes}
    order = {n.name: i for i, n in enumerate(nodes)}
    consumers: dict[str, list[str]] = {}
    for n in nodes:
        for i in n.inputs:
            consumers.setdefault(i, []).append(n.name)
    where = {n.name: scopes.of(n.name) or (scopes.of(n.alias) if n.alias else None) for n in nodes}
    own = {layer: {n.name for n in nodes if (where[n.name] or ("",))[0] == layer} for layer in layers}
    reach = {layer: _reach(own[layer], consumers) for layer in layers}
    position = {layer: i for i, layer in enumerate(layers)}
    out = []
    for probe in probes:
        pos = position[probe.layer]
        later = set().union(*(reach[m] for m in layers[pos + 1 :]))
        moved = {n for n in reach[probe.layer] if (where[n] or ("",))[0] in layers[:pos]}
        pool = sorted((own[probe.layer] | moved) - later, key=order.__getitem__)
        if not own[probe.layer]:
            follows = probe.inbound[0] if len(probe.inbound) == 1 and probe.kind == OUTPUT else ""
            note = "no op of its own in this graph"
            out.append(
                Candidates(
                    probe,
                    note=note + (f" (identity at inference): compared at {follows}'s tensor" if follows else ""),
                    follows=follows,
                )
            )
            continue
        if probe.kind == STATE_C:
            out.append(_state_candidates(probe, pool, by_name=by_name, where=where))
            continue
        found = Candidates(probe)
        picked = pool
        if probe.activation:
            acts = [
                n
                for n in sorted(own[probe.layer] | moved, key=order.__getitem__)
                if _applies(by_name[n], probe.activation)
            ]
            after = _reach(set(acts), consumers)
            if not acts:
                if probe.kind == PRE:
                    found.note = f"no separate {probe.activation} op in this layer's scope"
                    picked = []
            elif probe.kind == OUTPUT:
                picked = [n for n in pool if n in after]
                if not picked:
                    found.note = (
                        f"not in this graph: the converter computes {probe.activation} ({acts[-1]})"
                        " after a later layer's op"
                    )
            else:
                feeding = set().union(*(_ancestors(a, by_name) for a in acts))
                picked = [n for n in pool if n not in after and n in feeding]
                if not picked:
                    found.note = (
                        f"not in this graph: {probe.activation} is fused into {acts[0]} ({by_name[acts[0]].op})"
                    )
        found.nodes = list(reversed(picked))[:MAX_CANDIDATES]
        if not found.nodes and not found.note:
            found.note = "no tensor of this layer survives in this graph"
        out.append(found)
    return out


def _ancestors(name: str, by_name: dict[str, GraphNode]) -> set[str]:
    """Every node `name` reads from, directly or not."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        for i in by_name[todo.pop()].inputs:
            if i in by_name and i not in seen:
                seen.add(i)
                todo.append(i)
    return seen


def _state_candidates(
    probe: Probe, pool: list[str], *, by_name: dict[str, GraphNode], where: dict[str, tuple[str, str] | None]
) -> Candidates:
    """Rule 4, part one: a fused lstm op's c output (in the probe's half of a Bidirectional)."""
    found = Candidates(probe)
    for name in reversed(pool):
        node = by_name[name]
        rest = (where[name] or ("", ""))[1]
        if probe.direction and not rest.startswith(probe.direction):
            continue
        if node.op in FUSED_LSTM and node.output_index == 2:
            found.nodes.append(name)
    if not found.nodes:
        found.note = "unrolled"  # resolved against the output's node (rule 4, part two): see cell_state_of
    return found


def cell_state_of(output_node: str, graph: TensorGraph) -> str | None:
    """Rule 4, part two: for an unrolled LSTM whose output node is `h = o * tanh(c)` (perhaps
    behind casts, slices and reshapes, or the last step of the stacked sequence), the node c."""
    by_name = {n.name: n for n in graph.nodes}
    node = by_name.get(output_node)
    while node is not None and node.inputs and (node.op in PASS_THROUGH or node.op in STACK):
        if node.op in PASS_THROUGH and len(node.inputs) != 1:
            break
        node = by_name.get(node.inputs[-1])  # a stacked sequence: its last step (Keras's order)
    if node is None or _norm(node.op) != "mul":
        return None
    for i in node.inputs:
        t = by_name.get(i)
        if t is not None and _applies(t, "tanh") and len(t.inputs) == 1:
            return t.inputs[0]
    return None
