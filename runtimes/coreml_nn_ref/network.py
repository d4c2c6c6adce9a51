"""A numpy evaluator of the NeuralNetwork inside a `.mlmodel`: the file that ships, not Keras.

The spec is read with coremltools' protobuf classes (`MLModel(skip_model_load=True)`: nothing
is compiled, so it works on Linux). At open time every layer is compiled to a step (its weights
decoded once, see `layers`); a layer type outside the table is refused then, naming it. A run
walks the steps over one flat name -> tensor scope: NeuralNetwork.proto's LoopLayerParams says
"Blobs produced by the condition or the body network are visible in the scope of the overall
network", and CopyLayerParams is "the only layer that is allowed to re-generate an output that
is already present", which is how loop-carried values are written back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.errors import HarnessError
from runtimes.coreml_nn_ref import layers
from runtimes.tensors import GraphNode

CONTROL = ("loop", "branch", "copy", "loopBreak", "loopContinue")
EXACT_ARRAY_MAPPING = 1  # NeuralNetworkMultiArrayShapeMapping: shapes as given (spec 4+), not rank-5


class LayerRefused(HarnessError):
    """coreml-nn-ref cannot run this model: layer `layer_type` is not in the table (`reason`
    None), or refused this use of it (`reason`, from layers.UnsupportedLayer)."""

    def __init__(self, message: str, layer_type: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.layer_type, self.reason = layer_type, reason


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


@dataclass
class LayerStep:
    layer_type: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    run: Any = None  # compiled layer function (None for control flow)
    blocks: dict[str, list[LayerStep]] = field(default_factory=dict)  # control flow's sub-networks
    params: Any = None  # control flow's proto message


class Network:
    """A loaded NeuralNetwork, ready to run many times."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        from runtimes.frameworks import coreml_quiet as quiet
        from runtimes.frameworks import import_coremltools

        ct = import_coremltools()
        try:
            with quiet():
                spec = ct.models.MLModel(str(self.path), skip_model_load=True).get_spec()
        except Exception as e:  # protobuf raises many types for a damaged file
            raise HarnessError(f"{self.path}: not a readable Core ML model ({str(e).splitlines()[0][:200]})") from None
        kind = spec.WhichOneof("Type")
        if kind != "neuralNetwork":
            raise HarnessError(f"{self.path}: a Core ML {kind} model, not a NeuralNetwork")
        nn = spec.neuralNetwork
        if nn.arrayInputShapeMapping != EXACT_ARRAY_MAPPING:
            raise HarnessError(
                f"{self.path}: NeuralNetwork uses the rank-5 array shape mapping (arrayInputShapeMapping "
                f"{nn.arrayInputShapeMapping}); coreml-nn-ref evaluates EXACT_ARRAY_MAPPING models (spec 4+) only"
            )
        if len(nn.preprocessing):
            raise HarnessError(f"{self.path}: NeuralNetwork has image preprocessing; a text model has none")
        self.specification_version = int(spec.specificationVersion)
        self.inputs = [(f.name, tuple(int(d) for d in f.type.multiArrayType.shape)) for f in spec.description.input]
        self.input_types = [f.type.WhichOneof("Type") for f in spec.description.input]
        self.outputs = [f.name for f in spec.description.output]
        self.metadata = dict(spec.description.metadata.userDefined)
        self.weights = layers.Weights()
        self.layer_types: set[str] = set()
        self.steps = self._compile(nn.layers)

    def _compile(self, specs: Any) -> list[LayerStep]:
        steps = []
        for spec in specs:
            kind = spec.WhichOneof("layer")
            self.layer_types.add(kind)
            step = LayerStep(kind, spec.name, tuple(spec.input), tuple(spec.output))
            params = getattr(spec, kind)
            if kind == "loop":
                step.params = params
                step.blocks["body"] = self._compile(params.bodyNetwork.layers)
                if params.conditionVar:
                    step.blocks["condition"] = self._compile(params.conditionNetwork.layers)
            elif kind == "branch":
                step.blocks["if"] = self._compile(params.ifBranch.layers)
                step.blocks["else"] = self._compile(params.elseBranch.layers)
            elif kind not in CONTROL:
                build = layers.LAYERS.get(kind)
                if build is None:
                    raise LayerRefused(
                        f"{self.path}: NeuralNetwork layer {kind!r} ({spec.name}) is not implemented by "
                        "coreml-nn-ref; refusing to run the model (add it to runtimes/coreml_nn_ref/layers/)",
                        kind,
                    )
                try:
                    step.run = build(params, self.weights)
                except layers.UnsupportedLayer as e:
                    raise LayerRefused(
                        f"{self.path}: layer {kind!r} ({spec.name}): {e}; coreml-nn-ref cannot run it", kind, str(e)
                    ) from None
            steps.append(step)
        return steps

    def run(self, feeds: dict[str, np.ndarray], keep: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """The model's outputs; `keep`, when given, receives every blob computed (see `trace`)."""
        env: dict[str, np.ndarray] = keep if keep is not None else {}
        env.update({k: np.asarray(v, dtype=np.float32) for k, v in feeds.items()})
        with np.errstate(all="ignore"):
            self._walk(self.steps, env)
        missing = [n for n in self.outputs if n not in env]
        if missing:
            raise HarnessError(f"{self.path}: the network never computed its output {missing[0]!r}")
        return {n: env[n] for n in self.outputs}

    def trace(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every blob's last value, by name: what `harness compare --layers` reads."""
        env: dict[str, np.ndarray] = {}
        self.run(feeds, keep=env)
        return env

    def _walk(self, steps: list[LayerStep], env: dict[str, np.ndarray]) -> None:
        for step in steps:
            try:
                if step.run is not None:
                    result = step.run([env[n] for n in step.inputs])
                    values = result if isinstance(result, list) else [result]
                    if len(values) != len(step.outputs):
                        raise layers.UnsupportedLayer(f"{len(values)} results for {len(step.outputs)} outputs")
                    # No rank-0 blobs in the format: a "scalar" is a length-1 tensor (BranchLayerParams:
                    # "Must be a scalar (length 1 tensor)"), so a fully squeezed or reduced result is [1].
                    env.update(
                        (n, v.reshape(1) if v.ndim == 0 else v) for n, v in zip(step.outputs, values, strict=True)
                    )
                else:
                    self._control(step, env)
            except layers.UnsupportedLayer as e:
                raise LayerRefused(
                    f"{self.path}: layer {step.layer_type!r} ({step.name}): {e}; coreml-nn-ref cannot run it",
                    step.layer_type,
                    str(e),
                ) from None
            except KeyError as e:
                raise LayerRefused(
                    f"{self.path}: layer {step.layer_type!r} ({step.name}) reads {e}, which no earlier layer wrote",
                    step.layer_type,
                    "undefined input",
                ) from None

    def _control(self, step: LayerStep, env: dict[str, np.ndarray]) -> None:
        kind = step.layer_type
        if kind == "copy":
            env[step.outputs[0]] = env[step.inputs[0]].copy()
        elif kind == "branch":
            # BranchLayerParams: the if branch "if the absolute value of the input Tensor is greater than 1e-6"
            taken = "if" if abs(float(_scalar(env[step.inputs[0]], "branch condition"))) > 1e-6 else "else"
            self._walk(step.blocks[taken], env)
        elif kind == "loop":
            self._loop(step, env)
        elif kind == "loopBreak":
            raise _Break
        elif kind == "loopContinue":
            raise _Continue

    def _loop(self, step: LayerStep, env: dict[str, np.ndarray]) -> None:
        """LoopLayerParams' three cases: no condition network is a for loop of the maximum count;
        a condition with neither a count nor an input is a while loop; with both, the joint
        condition. A condition value "close to 0.0f is treated as False" (|v| <= 1e-6, as branch)."""
        p = step.params
        if step.inputs:
            limit: int | None = int(_scalar(env[step.inputs[0]], "loop count"))
        else:
            limit = int(p.maxLoopIterations) if p.maxLoopIterations or "condition" not in step.blocks else None

        def go_on() -> bool:
            if "condition" not in step.blocks:
                return True
            self._walk(step.blocks["condition"], env)
            return abs(float(_scalar(env[p.conditionVar], "loop condition"))) > 1e-6

        done = 0
        while (limit is None or done < limit) and go_on():
            try:
                self._walk(step.blocks["body"], env)
            except _Break:
                break
            except _Continue:
                pass
            done += 1

    def graph(self) -> tuple[GraphNode, ...]:
        """One node per layer output, in spec order (sub-networks inlined where they sit)."""
        nodes: list[GraphNode] = []

        def add(steps: list[LayerStep]) -> None:
            for st in steps:
                for i, out in enumerate(st.outputs):
                    nodes.append(GraphNode(out, st.layer_type, st.inputs, output_index=i, alias=st.name))
                for block in st.blocks.values():
                    add(block)

        add(self.steps)
        return tuple(nodes)


def _scalar(x: np.ndarray, what: str) -> float:
    x = np.asarray(x)
    if x.size != 1:
        raise layers.UnsupportedLayer(f"{what} of shape {list(x.shape)}; expected a scalar")
    return float(x.reshape(-1)[0])
