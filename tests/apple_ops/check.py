"""One model Apple's op tests built, run in coreml-ref and judged as Apple's `compare_backend` judges it.

Mirrors coremltools/converters/mil/testing_utils.py (9.0) `compare_backend` on macOS: inputs go
in as float32 arrays (`run_core_ml_predict` casts them; Core ML converts to the declared input
type), shapes are compared when asked (a () expectation accepts (1,)), values with
`np.testing.assert_allclose(out, expected, atol, rtol)`, where fp16 programs (or any compute
unit but CPU_ONLY) get atol = max(100 * atol, 0.5) and rtol = max(100 * rtol, 0.05), and
`allow_mismatch_ratio` of the elements may fall outside.

One deliberate difference: Apple picks the fp16 tolerance by the backend's name (`dtype`), but
many fp32-backend tests build fp16-typed programs themselves (x or parameters in float16, e.g.
`x_param_dtype=(np.float16, np.float32)`) and compare them with float32 expectations. Such a
program computes with fp16-rounded values wherever it runs, so when it fails the fp32 tolerance
it is judged again at the fp16 one, and counted (`fp16_program`). Apple's own CI runs only the
fp16 backend (INCLUDE_MIL_FP32_UNIT_TESTS unset), so these fp32 cases were never checked there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

PASSED, REFUSED, MISMATCHED, ERROR = "passed", "refused", "mismatched", "error"
OUT_OF_FP16 = "out of fp16 range"  # the expected value is not representable in the fp16 program
FP16_MAX = 65504.0


@dataclass
class Outcome:
    """What happened to one model: `status` is one of PASSED, REFUSED, MISMATCHED, ERROR."""

    status: str
    op: str | None = None  # the refusing op (REFUSED)
    reason: str | None = None  # None: the op is not implemented; else why it refused / what differed
    max_abs_diff: float | None = None
    ops: list[str] = field(default_factory=list)  # the program's op types
    fp16_program: bool = False  # an fp32-backend case that needed the fp16 tolerance (fp16-typed program)


def tolerances(dtype: str, cpu_only: bool, atol: float, rtol: float) -> tuple[float, float]:
    """Apple's widening for fp16 programs and non-CPU compute units (compare_backend)."""
    if not cpu_only or dtype == "fp16":
        return max(atol * 100.0, 5e-1), max(rtol * 100.0, 5e-2)
    return atol, rtol


def holds_fp16(program: Any) -> bool:
    """Whether any input, constant or op result of the program is float16."""
    tensors = [*program.inputs, *(o for step in program.steps for o in step.outputs)]
    consts = (v for v in program.consts.values() if isinstance(v, np.ndarray))
    return any(t.dtype == np.float16 for t in tensors) or any(v.dtype == np.float16 for v in consts)


def _unloadable(e: Exception) -> tuple[str, str]:
    """(op, reason) for a program coremltools' own milproto loader rejects (e.g. an fp32 default
    epsilon next to fp16 parameters, which the builder allowed but type checking refuses)."""
    text = str(e)
    found = re.search(r"of type (\w+)", text)
    return (found.group(1) if found else "<program>"), "milproto loader rejects the program: " + text.split(
        "not a readable ML Program ("
    )[-1].rstrip(")")[:200]


def _sanitized(name: str) -> str:
    # coremltools' NameSanitizer: invalid characters become "_" (a leading digit gets a prefix)
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def _feed(name: str, value: Any, spec: Any) -> np.ndarray:
    from runtimes.coreml_ref.evaluator import OpRefused

    v = np.asarray(value, dtype=np.float32)  # run_core_ml_predict: every array input becomes float32
    if v.shape == ():
        v = v.reshape(1)  # ... and a scalar a [1] array
    if spec.dtype.kind in "iub":
        as_int = v.astype(spec.dtype)
        if not np.array_equal(as_int.astype(np.float32), v):
            raise OpRefused(f"input {name!r} {v} is not exactly {spec.describe()}", "<input>", "inexact input")
        return as_int
    return v.astype(spec.dtype)


def _shape_ok(out: np.ndarray, expected: np.ndarray) -> bool:
    return out.shape == expected.shape or (expected.shape == () and out.shape in ((), (1,)))


def evaluate(
    mlmodel: Any,
    inputs: dict[str, Any],
    expected: dict[str, Any] | None,
    dtype: str = "fp32",
    atol: float = 1e-4,
    rtol: float = 1e-5,
    also_compare_shapes: bool = True,
    state: Any = None,
    allow_mismatch_ratio: float = 0.0,
) -> Outcome:
    import coremltools as ct

    from harness.core.errors import HarnessError
    from runtimes.coreml_ref.evaluator import OpRefused, Program

    try:
        if state is not None:
            raise OpRefused("stateful model", "<state>", "stateful models (MLState) are not evaluated")
        spec = mlmodel.get_spec()
        if any(i.type.WhichOneof("Type") != "multiArrayType" for i in spec.description.input):
            raise OpRefused("image input", "<input>", "non-tensor (image) inputs are not evaluated")
        try:
            program = Program(Path(mlmodel.package_path))
        except OpRefused:
            raise
        except HarnessError as e:
            op, why = _unloadable(e)
            return Outcome(REFUSED, op, why)
        ops = sorted(program.op_types)
        by_name = {s.name: s for s in program.inputs}
        feeds = {}
        for name, value in (inputs or {}).items():
            s = by_name.get(name) or by_name.get(_sanitized(name))
            if s is None:
                raise KeyError(f"input {name!r} not in the program ({sorted(by_name)})")
            feeds[s.name] = _feed(name, value, s)
        got = program.run(feeds)
    except OpRefused as e:
        return Outcome(REFUSED, e.op_type, e.reason)
    cpu_only = mlmodel.compute_unit == ct.ComputeUnit.CPU_ONLY
    status, reason, diff = compare(got, expected or {}, *tolerances(dtype, cpu_only, atol, rtol), also_compare_shapes, allow_mismatch_ratio, dtype == "fp16")  # fmt: skip
    relaxed = False
    if status == MISMATCHED and dtype != "fp16" and holds_fp16(program):
        status, reason, diff = compare(got, expected or {}, *tolerances("fp16", cpu_only, atol, rtol), also_compare_shapes, allow_mismatch_ratio, True)  # fmt: skip
        relaxed = True
    return Outcome(status, reason=reason, max_abs_diff=diff, ops=ops, fp16_program=relaxed)


def compare(
    got: dict[str, np.ndarray],
    expected: dict[str, Any],
    a: float,
    r: float,
    shapes: bool,
    ratio: float,
    fp16: bool = False,
) -> tuple[str, str | None, float | None]:
    """(status, what differed, largest finite |difference|) of every expected output, as
    compare_backend judges them. `fp16`: the program computes in float16, so an expected value
    beyond its range that came out as an inf of the same sign is OUT_OF_FP16, not a mismatch."""
    worst = 0.0
    for name, want in expected.items():
        out = got.get(name, got.get(_sanitized(name)))
        if out is None:
            return ERROR, f"output {name!r} missing from {sorted(got)}", worst
        out, want = np.asarray(out), np.asarray(want)
        if shapes and not _shape_ok(out, want):
            return MISMATCHED, f"{name}: shape {list(out.shape)}, expected {list(want.shape)}", worst
        if not (out.shape == want.shape or out.shape == () or want.shape == ()):  # assert_allclose's rule
            return MISMATCHED, f"{name}: shape {list(out.shape)} vs {list(want.shape)}", worst
        o64, w64 = out.astype(np.float64), want.astype(np.float64)
        close = np.isclose(o64, w64, atol=a, rtol=r, equal_nan=True)
        diff = np.abs(o64 - w64)
        finite = diff[np.isfinite(diff)]
        worst = max(worst, float(finite.max()) if finite.size else 0.0)
        if not close.all() and np.sum(~close) / max(w64.size, 1) > ratio:
            bad = ~close
            if fp16 and np.all(
                np.isinf(o64[bad]) & (np.abs(w64[bad]) > FP16_MAX) & (np.sign(o64[bad]) == np.sign(w64[bad]))
            ):
                # the expectation itself is beyond float16: an fp16 program can only overflow there
                return OUT_OF_FP16, f"{name}: {int(bad.sum())} expected values beyond +-65504 came out as inf", worst
            d = float(np.max(np.where(close, 0, np.where(np.isnan(diff), np.inf, diff))))  # NaN vs a number: inf
            what = f"{name}: {int(bad.sum())}/{close.size} elements outside atol={a} rtol={r}"
            return MISMATCHED, what + ("" if np.isfinite(d) else " (inf or NaN)"), d if np.isfinite(d) else None
    return PASSED, None, worst
