"""`harness doctor`: will this model ship? Every runtime tries it, before anyone relies on it.

For each runtime: export the model to its target, load it in its engine and score a tiny batch
(two reviews, the bundle's reference tokenizer's ids, whatever its kind) through `Engines`, so a failure is that
runtime's
row, never the end of the check. A row says whether the model converts and runs there, how far
its scores are from the reference's (against the runtime's tolerance), and, when it does not
run, the step, what the engine lacks and which version, and the workaround where one is known.

Known engine limitations (golden/known_limitations.toml) make it faster and clearer: a
limitation whose `when` traits the model file has (exact gelu, say) is shown as a prediction
without converting anything (`try_known` tries anyway), and a failure that matches one is shown
as that limitation. `harness bundle` prints the same table for the bundle it made.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from harness import export
from harness.core import config, float16_ids, limitations, strict_json
from harness.core.bundle import Bundle
from harness.core.limitations import Limitation
from harness.data import traits
from harness.run.engines import Engines
from runtimes import registry, tokenizers
from runtimes.failures import RuntimeFailed, StepFailure
from runtimes.selection import Selection

TEXTS = ("a gorgeous, witty and moving film", "dull, flat and far too long")
# what an engine's words say it lacks (for failures no limitation declares)
LACKS = (
    (r"Unsupported Ops in the model before optimization:?\s*([\w, ]+)", "TF op(s) {0}"),
    (r"Conversion for TF op '(\w+)' not implemented", "TF op {0}"),
    (r"Kernel '(\w+)' not registered for backend '(\w+)'", "kernel {0} on backend {1}"),
    (r"ML Program op '(\w+)' .*not implemented", "MIL op {0}"),
    (r"(_FusedMatMul) only supports rank-1 bias", "{0} with a bias of rank > 1"),
    (r"dynamic op '(\w+)'", "execute() of the dynamic op {0}"),
)


@dataclass
class Row:
    runtime: str
    result: str  # "runs", "fails", "predicted" (a declared limitation, not tried), "unavailable"
    step: str = ""  # where it failed: export, load, tokenize, run
    max_abs_diff: float | None = None
    within_tolerance: bool | None = None
    seconds: float = 0.0
    engine: str = ""  # the engine and version that ran it or lacks something
    lacks: str = ""  # the op, kernel or feature it lacks
    limitation: str = ""  # the declared limitation's id
    detail: str = ""  # how it ran (execution mode, rewrites) or why it did not (one line)

    @property
    def ok(self) -> bool:
        return self.result == "runs" and self.within_tolerance is not False

    def converts_runs(self) -> tuple[str, str]:
        """The table's two verdicts: does it convert (export), does it run (load, score, tolerance)."""
        if self.result == "unavailable":
            return "n/a", "n/a"
        converts = "NO" if self.step == "export" else "-" if self.runtime == "keras" else "yes"
        if self.result == "runs":
            return converts, "yes" if self.within_tolerance is not False else "OFF"
        return converts, "-" if self.step == "export" else "NO"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def what_lacks(message: str) -> str:
    for pattern, form in LACKS:
        m = re.search(pattern, message)
        if m:
            return form.format(*(g.strip() for g in m.groups()))
    return ""


def _engine(engines: Engines, rid: str, failed_step: str = "") -> str:
    """The engine and version that did the step: the converter for an export, else the runtime."""
    rt = engines.runtimes[rid]
    if rt.spec.target is not None and failed_step == "export":
        versions = export.exporter(rt.spec.target).tool_versions()
        name = next(iter(versions), "")
        return f"{name} {versions[name]}" if name else ""
    if rt.context():
        return rt.context()
    info = engines.info.get(rid, {})
    if rt.spec.family == "keras":
        return f"keras {info.get('keras', '')}".strip()
    if rt.spec.family == "coreml" and rt.spec.backend == "ref":
        return f"coreml-ref (numpy {np.__version__})"
    return rt.spec.engine.partition(":")[0]


def _how_it_ran(engines: Engines, rid: str) -> str:
    info = engines.info.get(rid, {})
    art = engines.artifacts.get(rid, {})
    bits = []
    if "execution" in info:
        bits.append(str(info["execution"]))
    rewrites = [r["rewrite"] for r in art.get("graph_rewrites", [])]
    if rewrites:
        bits.append("rewrites: " + ", ".join(rewrites))
    plan = art.get("recurrent")
    if plan:
        bits.append("recurrent: " + ", ".join(f"{p['class']} {p['path']}" for p in plan))
    if "mil_ops" in info and isinstance(info["mil_ops"], list):
        bits.append(f"{len(info['mil_ops'])} MIL op types")
    if "nn_layers" in info and isinstance(info["nn_layers"], list):
        bits.append(f"{len(info['nn_layers'])} NeuralNetwork layer types")
    return "; ".join(bits)


def _failed(engines: Engines, rid: str, failure: StepFailure, *, seconds: float) -> Row:
    lim = failure.limitation
    if lim is None:
        return Row(
            rid,
            "fails",
            failure.step,
            seconds=round(seconds, 2),
            engine=_engine(engines, rid, failure.step),
            lacks=what_lacks(failure.message),
            detail=failure.line(),
        )
    return Row(
        rid,
        "fails",
        failure.step,
        seconds=round(seconds, 2),
        engine=f"{lim.engine_name} {lim.version}",
        lacks=lim.lacks,
        limitation=lim.id,
        detail=f"{failure.step}: {_short(lim)}",
    )


def _short(lim: Limitation) -> str:
    return f"known limitation {lim.id}: {lim.engine_name} {lim.version} lacks {lim.lacks}"


def _predicted(rid: str, lim: Limitation, model_traits: set[str]) -> Row:
    why = ", ".join(t for t in lim.when if t in model_traits)
    return Row(
        rid,
        "predicted",
        lim.step,
        engine=f"{lim.engine_name} {lim.version}",
        lacks=lim.lacks,
        limitation=lim.id,
        detail=f"{lim.step}: {_short(lim)} (predicted from {why}; not tried)",
    )


WEBGL_BACKENDS = ("webgl", "webgl16")


def webgl_warning(bundle: Bundle, runtime_ids: list[str]) -> str:
    """The float16-ids warning when the model is meant to ship on webgl (a webgl runtime among
    `runtime_ids`) and its vocabulary has ids float16 storage rounds, else "" (harness.core.float16_ids)."""
    if not any(registry.spec(rid).backend in WEBGL_BACKENDS for rid in runtime_ids):
        return ""
    return float16_ids.vocabulary_warning(bundle.signature().vocab_size)


def _float16_ids_note(ids: np.ndarray, bundle: Bundle) -> str:
    """What float16 id storage did to doctor's reviews, or would do to others (webgl16 rows)."""
    if float16_ids.rows_with_rounded_ids(ids).any():
        return f"ids above {float16_ids.EXACT_MAX} rounded before the lookup (float16 textures)"
    if float16_ids.vocabulary_warning(bundle.signature().vocab_size):
        return f"these reviews hold no id above {float16_ids.EXACT_MAX}; reviews that do are rounded (warning above)"
    return ""


def diagnose(bundle: Bundle, selection: Selection, try_known: bool = False) -> list[Row]:
    """One row per runtime of `selection` (the reference first), unavailable ones included."""
    model_traits = traits.of_file(bundle.model_path)
    ids = np.asarray(tokenizers.tokenize(tokenizers.REFERENCE, bundle, list(TEXTS)), dtype=np.int32)
    reference = selection.reference or config.reference()
    order = [rt.id for rt in selection.runtimes]
    rows: dict[str, Row] = {}
    to_try = []
    for rt in selection.runtimes:
        lim = None if try_known else limitations.predicted(rt.id, model_traits)
        if lim is not None and rt.id != reference:
            rows[rt.id] = _predicted(rt.id, lim, model_traits)
        else:
            to_try.append(rt)
    to_try.sort(key=lambda rt: rt.id != reference)  # the reference first: the others compare with it
    ref_scores: np.ndarray | None = None
    with Engines(bundle, to_try) as engines:
        for rt in to_try:
            rid = rt.id
            started = time.perf_counter()
            try:
                scores = engines.scores(rid, ids)
            except RuntimeFailed as e:
                rows[rid] = _failed(engines, rid, e.failure, seconds=time.perf_counter() - started)
                continue
            row = Row(rid, "runs", seconds=round(time.perf_counter() - started, 2), engine=_engine(engines, rid))
            row.detail = _how_it_ran(engines, rid)
            if rid == reference:
                ref_scores = scores
            elif ref_scores is not None:
                row.max_abs_diff = float(np.max(np.abs(scores - ref_scores)))
                row.within_tolerance = row.max_abs_diff <= engines.tolerance(rid).atol
                if rt.spec.options.get("float16_ids"):
                    row.detail = "; ".join(filter(None, [_float16_ids_note(ids, bundle), row.detail]))
            rows[rid] = row
    for rid, missing in selection.unavailable.items():
        rows[rid] = Row(rid, "unavailable", detail=f"cannot run here: {missing}")
    ranked = order + [rid for rid in registry.ids() if rid in rows and rid not in order]
    return [rows[rid] for rid in ranked if rid in rows]


def render(rows: list[Row], title: str) -> list[str]:
    """The table `harness doctor` and `harness bundle` print."""
    width = max([len(r.runtime) for r in rows] + [7])
    out = [title, f"  {'runtime':<{width}}  {'converts':<8}  {'runs':<4}  {'max|diff|':>9}  {'s':>5}  detail"]
    for r in rows:
        converts, runs = r.converts_runs()
        diff = f"{r.max_abs_diff:.1e}" if r.max_abs_diff is not None else "-"
        seconds = f"{r.seconds:.1f}" if r.result in ("runs", "fails") else "-"
        detail = r.detail
        if r.result == "fails" and not r.limitation:
            engine = f" ({r.engine})" if r.engine and r.engine not in r.detail else ""
            detail = f"lacks {r.lacks}{engine} · {r.detail}" if r.lacks else f"{r.detail}{engine}"
        elif r.result == "runs" and r.within_tolerance is False:
            detail = f"outside tolerance on {len(TEXTS)} reviews; {detail}"
        elif r.result == "runs":
            detail = f"{r.engine}; {detail}" if detail else r.engine
        out.append(f"  {r.runtime:<{width}}  {converts:<8}  {runs:<4}  {diff:>9}  {seconds:>5}  {detail}")
    declared = {lim.id: lim for lim in limitations.load()}
    for lim_id in dict.fromkeys(r.limitation for r in rows if r.limitation):
        lim = declared[lim_id]
        workaround = f" Workaround: {lim.workaround}" if lim.workaround else ""
        out.append("  " + " ".join(f"{lim_id}: {lim.cause}{workaround}".split()))
    ok = sum(r.ok for r in rows)
    blocked = [r for r in rows if r.result in ("fails", "predicted") or r.within_tolerance is False]
    known = sum(bool(r.limitation) for r in blocked)
    out.append(
        f"  {ok} of {len(rows)} runtime(s) run it"
        + (f"; {len(blocked)} cannot ({known} known limitation(s))" if blocked else "")
        + (
            f"; {sum(r.result == 'unavailable' for r in rows)} unavailable here"
            if any(r.result == "unavailable" for r in rows)
            else ""
        )
    )
    return out


def print_diagnosis(
    bundle_dir: str | Path, runtimes: str, *, try_known: bool, as_json: bool, stream: TextIO, title: str
) -> int:
    """Diagnose the bundle on `runtimes`; print the table (or JSON Lines) to `stream`; 0 when
    every runtime that can run here runs it within tolerance, else 1. Here, not in the CLI, so
    `harness doctor` and `harness bundle --doctor` share it without importing each other."""
    from harness.core import bundle
    from runtimes.selection import select

    b = bundle.load(bundle_dir)
    selection = select(runtimes, with_reference=True)
    warning = webgl_warning(b, selection.ids + list(selection.unavailable))
    if warning:  # before the conversions start: it is known from the bundle alone
        print(f"harness doctor: warning: {warning}", file=sys.stderr, flush=True)
    rows = diagnose(b, selection, try_known)
    if as_json:
        for row in rows:
            print(strict_json.dumps(row.as_dict(), ensure_ascii=False), file=stream)
    else:
        print("\n".join(render(rows, title)), file=stream, flush=True)
    return 0 if all(r.ok or r.result == "unavailable" for r in rows) else 1
