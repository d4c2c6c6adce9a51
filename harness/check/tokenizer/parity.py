"""`harness tokenize`'s verdict: per case whether the runtimes agree, and each divergence class
with the shortest input that shows it (harness/check/tokenizer/classes.py, shrink.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.check.tokenizer.classes import DivergenceClass, TokenClassFinding, classes, findings
from harness.core.bundle import Bundle
from harness.core.cases import Case
from harness.core.tokenizer.app_tokenizer import AppTokenizer
from harness.core.tokenizer.kinds import TokenizerInfo
from runtimes import tokenizers
from runtimes.tokenizers.outcome import Malformed, Outcome, Thrown


@dataclass
class Parity:
    rows: list[dict[str, Any]]  # what `harness tokenize` prints, one per case
    classes: list[DivergenceClass]
    reference: str

    @property
    def agree(self) -> int:
        return sum(1 for r in self.rows if r["agree"])


def row(case: Case, i: int, results: dict[str, list[Outcome]], *, found: list[TokenClassFinding]) -> dict[str, Any]:
    ids: dict[str, list[int]] = {}
    errors: dict[str, str] = {}
    for tid, outs in results.items():
        got = outs[i]
        if isinstance(got, Thrown):
            errors[tid] = got.message
        elif isinstance(got, Malformed):
            errors[tid] = f"malformed: {got.message}"
        else:
            ids[tid] = got
    out: dict[str, Any] = {"id": case.id, "ids": ids, "agree": not found}
    if errors:
        out["errors"] = errors
    return out


def check(
    bundle: Bundle,
    items: list[Case],
    results: dict[str, list[Outcome]],
    *,
    app: AppTokenizer | None = None,
    minimize: bool = True,
) -> Parity:
    """Rows and classes of `results` (each runtime's outcome per case), each class shrunk."""
    reference = tokenizers.REFERENCE if tokenizers.REFERENCE in results else next(iter(results), "")
    tok = bundle.tokenizer_info()
    per_case, found = classes([c.id for c in items], [c.text for c in items], results, reference=reference, tok=tok)
    rows = [row(case, i, results, found=per_case[i]) for i, case in enumerate(items)]
    if minimize:
        for cls in found:
            _minimize(bundle, cls, reference=reference, tok=tok, app=app)
    return Parity(rows, found, reference)


def _minimize(
    bundle: Bundle, cls: DivergenceClass, *, reference: str, tok: TokenizerInfo, app: AppTokenizer | None
) -> None:
    involved = list(dict.fromkeys([reference, cls.runtime]))

    def run(text: str) -> dict[str, Outcome]:
        return {tid: tokenizers.outcomes(tid, bundle, [text], app=app)[0] for tid in involved}

    def shows(text: str) -> list[TokenClassFinding]:
        return [f for f in findings(run(text), reference, tok) if f.key == (cls.runtime, cls.name)]

    try:  # Hypothesis is a test dependency; without it the class keeps its shortest case, marked unshrunk
        from harness.check.tokenizer.shrink import shrink
    except ImportError:
        return
    from runtimes.tokenizers.browser import without_report_settle

    with without_report_settle():  # hundreds of one-text calls; the check of `minimal` below settles
        minimal = shrink(cls.seed, lambda text: bool(shows(text)))
    if minimal is None:
        return
    cls.minimal = minimal
    cls.minimal_detail = shows(minimal)[0].detail
    cls.minimal_ids = {tid: (o if isinstance(o, list) else o.message) for tid, o in run(minimal).items()}


def merge_classes(into: dict[tuple[str, str], DivergenceClass], found: list[DivergenceClass]) -> None:
    """One batch's classes added to those of the batches before (`harness tokenize` reads its
    input in batches): the cases add up, the shortest seed stays."""
    for cls in found:
        have = into.get((cls.runtime, cls.name))
        if have is None:
            into[(cls.runtime, cls.name)] = cls
            continue
        have.case_ids.extend(cls.case_ids)
        if len(cls.seed) < len(have.seed):
            have.seed, have.seed_detail = cls.seed, cls.seed_detail


def shrink(bundle: Bundle, found: list[DivergenceClass], reference: str, *, app: AppTokenizer | None = None) -> None:
    """Each class shrunk to a minimal input (what `check(minimize=True)` does for one batch)."""
    tok = bundle.tokenizer_info()
    for cls in found:
        _minimize(bundle, cls, reference=reference, tok=tok, app=app)
