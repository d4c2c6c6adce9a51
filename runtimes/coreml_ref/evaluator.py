"""A numpy evaluator of the ML Program inside an .mlpackage: the file that ships, not Keras.

The program and its weights are read from the package with coremltools' milproto loader
(`MLModel(skip_model_load=True)`, so nothing is compiled and it works on Linux). At open time
the op list is compiled into steps: constants are materialised once as numpy arrays, every
other op is bound to its function in `ops.OPS`. A run walks the steps; each op computes (see
`ops` for the precision convention) and its result is rounded to the dtype the program
declares for that tensor, so a float16 program rounds after every op, as Core ML stores it.
An op outside the table is refused at open time, naming the op and the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.errors import HarnessError
from runtimes.coreml_ref import ops
from runtimes.tensors import GraphNode

_VAR, _CONST, _LIST = 0, 1, 2


class OpRefused(HarnessError):
    """coreml-ref cannot run this program: op `op_type` is not in the table (`reason` None), or
    the op refused this use of it (`reason`, from ops.Unsupported). Tools count refusals by op."""

    def __init__(self, message: str, op_type: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.op_type, self.reason = op_type, reason


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: np.dtype
    shape: tuple[int | None, ...]  # None: a flexible (symbolic) dimension

    def describe(self) -> str:
        dims = ", ".join("N" if d is None else str(d) for d in self.shape)
        return f"{_DTYPE_NAMES.get(self.dtype, str(self.dtype))} [{dims}]"


_DTYPE_NAMES = {
    np.dtype(np.float16): "fp16",
    np.dtype(np.float32): "fp32",
    np.dtype(np.int32): "int32",
    np.dtype(np.bool_): "bool",
}


@dataclass(frozen=True)
class Step:
    op_type: str
    name: str
    fn: Any
    args: tuple[tuple[str, int, Any], ...]  # (param, kind, var name | const value | tuple of (kind, x))
    outputs: tuple[TensorSpec, ...]


def round_to(value: Any, spec: TensorSpec) -> np.ndarray:
    """An op's result stored as the program declares: float16 rounds to nearest even,
    overflowing to inf and keeping subnormals, exactly as numpy's IEEE cast does."""
    value = np.asarray(value)
    if value.dtype == spec.dtype:
        return value
    kind, want = value.dtype.kind, spec.dtype.kind
    if want == "f" and kind in "fiu" or (want in "iu" and kind in "iu") or (want == "b" and kind == "b"):
        return value.astype(spec.dtype)
    raise ops.Unsupported(f"result {spec.name!r} computed as {value.dtype}, declared {spec.describe()}")


def apply(op_type: str, out_dtype: Any, opset: int = 15, **inputs: Any) -> np.ndarray:
    """One op as the evaluator runs it (compute, then round to `out_dtype`): for tests and tools."""
    fn = ops.OPS[op_type]
    if op_type in ops.WANTS_OPSET:
        inputs["opset"] = opset
    with np.errstate(all="ignore"):
        return round_to(fn(**inputs), TensorSpec(op_type, np.dtype(out_dtype), ()))


class Program:
    """A loaded ML Program, ready to run many times."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        from runtimes.frameworks import coreml_quiet as quiet
        from runtimes.frameworks import import_coremltools

        ct = import_coremltools()
        from coremltools.converters.mil.frontend.milproto.load import load as milproto_load
        from coremltools.converters.mil.mil import types

        self._types = types
        try:
            with quiet():
                mlmodel = ct.models.MLModel(str(self.path), skip_model_load=True)
                spec = mlmodel.get_spec()
                kind = spec.WhichOneof("Type")
                if kind != "mlProgram":
                    raise HarnessError(f"{self.path}: a Core ML {kind} model, not an ML Program")
                program = milproto_load(
                    spec, specification_version=spec.specificationVersion, file_weights_dir=mlmodel.weights_dir
                )
        except HarnessError:
            raise
        except Exception as e:  # protobuf and the loader raise many types for a damaged package
            raise HarnessError(f"{self.path}: not a readable ML Program ({str(e).splitlines()[0][:200]})") from None
        name = "main"
        if name not in spec.mlProgram.functions or name not in program.functions:
            raise HarnessError(f"{self.path}: ML Program has no 'main' function")
        self.opset_name = spec.mlProgram.functions[name].opset
        match = re.fullmatch(r"CoreML(\d+)", self.opset_name)
        self.opset = int(match.group(1)) + 10 if match else 15  # CoreML5 = iOS15, CoreML6 = iOS16, ...
        self.specification_version = int(spec.specificationVersion)
        self.batch_max = batch_upper_bound(spec)
        fn = program.functions[name]
        self.inputs = [self._spec(v) for v in fn.inputs.values()]
        self.outputs = [self._spec(v) for v in fn.outputs]
        self.consts: dict[str, Any] = {}
        self._wide: dict[str, np.ndarray] = {}
        self.steps: list[Step] = []
        self.op_types: set[str] = set()
        for operation in fn.operations:
            self._compile(operation)

    def _spec(self, var: Any) -> TensorSpec:
        dtype = np.dtype(self._types.nptype_from_builtin(var.dtype))
        shape = tuple(int(d) if isinstance(d, (int, np.integer)) else None for d in (var.shape or ()))
        return TensorSpec(var.name, dtype, shape)

    def _const_value(self, var: Any) -> Any:
        val = var.val
        if self._types.is_str(var.dtype):
            return str(val)
        return np.asarray(val, dtype=self._types.nptype_from_builtin(var.dtype))

    def _ref(self, var: Any, widen: bool) -> tuple[int, Any]:
        if var.name in self.consts:
            value = self.consts[var.name]
            if widen and isinstance(value, np.ndarray) and value.dtype == np.float16:
                # Computing ops widen float16 to float32 first; widening a constant once here
                # (exact) instead of on every call changes no result, only the time.
                value = self._wide.setdefault(var.name, value.astype(np.float32))
            return _CONST, value
        return _VAR, var.name

    def _compile(self, operation: Any) -> None:
        self.op_types.add(operation.op_type)
        if operation.op_type == "const":
            (out,) = operation.outputs
            self.consts[out.name] = self._const_value(out)
            return
        fn = ops.OPS.get(operation.op_type)
        if fn is None or operation.blocks:
            raise OpRefused(
                f"{self.path}: ML Program op {operation.op_type!r} ({operation.name}) is not implemented "
                f"by coreml-ref; refusing to run the model (add it to runtimes/coreml_ref/ops/)",
                operation.op_type,
            )
        args: list[tuple[str, int, Any]] = []
        widen = operation.op_type not in ops.DATA_MOVEMENT  # a gathered fp16 table stays fp16: no rounding pass
        for param, var in operation.inputs.items():
            if isinstance(var, (list, tuple)):
                args.append((param, _LIST, tuple(self._ref(v, widen) for v in var)))
            else:
                args.append((param, *self._ref(var, widen)))
        if operation.op_type in ops.WANTS_OPSET:
            args.append(("opset", _CONST, self.opset))
        outputs = tuple(self._spec(v) for v in operation.outputs)
        self.steps.append(Step(operation.op_type, operation.name, fn, tuple(args), outputs))

    def run(
        self,
        feeds: dict[str, np.ndarray],
        keep: dict[str, Any] | None = None,
        pins: dict[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """The program's outputs; `keep`, when given, also receives every tensor computed (see `trace`);
        `pins`: op outputs replaced, once computed, by the value given (rounded to the variable's
        dtype), so the ops after them run on those values (see `replay`)."""
        env: dict[str, Any] = keep if keep is not None else {}
        env.update(feeds)
        pins = pins or {}
        step = None
        try:
            with np.errstate(all="ignore"):  # float16 overflow to inf is the semantics, not an accident
                for step in self.steps:
                    kwargs = {}
                    for param, kind, ref in step.args:
                        if kind == _VAR:
                            kwargs[param] = env[ref]
                        elif kind == _CONST:
                            kwargs[param] = ref
                        else:
                            kwargs[param] = [env[r] if k == _VAR else r for k, r in ref]
                    result = step.fn(**kwargs)
                    if len(step.outputs) == 1:
                        result = (result,)
                    for spec, value in zip(step.outputs, result, strict=True):
                        value = round_to(value, spec)
                        if value.ndim != len(spec.shape) or any(
                            d is not None and d != v for d, v in zip(spec.shape, value.shape, strict=True)
                        ):
                            raise ops.Unsupported(f"result shape {list(value.shape)}, declared {spec.describe()}")
                        if spec.name in pins:
                            value = round_to(np.asarray(pins[spec.name]).reshape(value.shape), spec)
                        env[spec.name] = value
        except ops.Unsupported as e:
            assert step is not None
            raise OpRefused(
                f"{self.path}: op {step.op_type!r} ({step.name}): {e}; coreml-ref cannot run it", step.op_type, str(e)
            ) from None
        out = {}
        for spec in self.outputs:
            out[spec.name] = env[spec.name] if spec.name in env else self.consts[spec.name]
        return out

    def trace(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every op's result (by MIL variable name), as stored: what `harness compare --layers` reads."""
        env: dict[str, Any] = {}
        self.run(feeds, keep=env)
        return env

    def graph(self) -> tuple[GraphNode, ...]:
        """One node per op output, in program order; inputs are the variables it reads."""
        nodes = []
        for st in self.steps:
            reads: list[str] = []
            for _, kind, ref in st.args:
                if kind == _VAR:
                    reads.append(ref)
                elif kind == _LIST:
                    reads.extend(r for k, r in ref if k == _VAR)
            for i, spec in enumerate(st.outputs):
                nodes.append(
                    GraphNode(spec.name, st.op_type, tuple(reads), output_index=i, shape=spec.shape, alias=st.name)
                )
        return tuple(nodes)


def batch_upper_bound(spec: Any) -> int | None:
    """The largest batch Apple's runtime would accept for the first input (None: no limit, or no
    input at all, as in a program of constants only)."""
    if not spec.description.input:
        return None
    inp = spec.description.input[0].type.multiArrayType
    which = inp.WhichOneof("ShapeFlexibility")
    if which == "shapeRange":
        upper = int(inp.shapeRange.sizeRanges[0].upperBound)
        return upper if upper > 0 else None
    if which == "enumeratedShapes":
        return max(int(s.shape[0]) for s in inp.enumeratedShapes.shapes)
    return int(inp.shape[0]) if len(inp.shape) else None
