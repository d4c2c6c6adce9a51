"""`harness predict`: each model runtime fed by the tokenizer its real app uses, failures isolated.

`predict_batches` keeps the sessions open across batches and yields each batch's scores as
soon as it is done, so a 100,000-line input is held one batch at a time (memory stays flat)
and its first lines are printed while the rest still runs.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from dataclasses import dataclass, field

import numpy as np

from harness.core import float16_ids
from harness.core.bundle import Bundle
from harness.core.cases import Case
from harness.run.engines import Engines
from runtimes.failures import StepFailure
from runtimes.selection import Selection

BATCH = 2048  # cases per batch: one page call per browser runtime, a few MB of ids


@dataclass
class ScoredBatch:
    cases: list[Case]
    scores: dict[str, np.ndarray]  # runtime id -> scores of these cases (runtimes that ran)
    tokenized_by: dict[str, str]  # runtime id -> the tokenizer that fed it
    failures: dict[str, StepFailure]  # every runtime that has failed so far, with its reason
    # runtime id -> per case, whether float16 id storage (webgl16) changed one of its ids
    rounded_ids: dict[str, np.ndarray] = field(default_factory=dict)


def predict_batches(bundle: Bundle, selection: Selection, batches: Iterable[list[Case]]) -> Generator[ScoredBatch]:
    """One ScoredBatch per input batch, the engines opened once for all of them."""
    with Engines(bundle, selection.runtimes) as engines:
        engines.prepare()
        for batch in batches:
            by_tok: dict[str, np.ndarray] = {}
            scores, used = engines.text_scores([c.text for c in batch], by_tok)
            failures = {rid: f for rid, f in engines.failures.items() if rid in engines.runtimes}
            rounded = {
                rid: float16_ids.rows_with_rounded_ids(by_tok[tok])
                for rid, tok in used.items()
                if engines.runtimes[rid].spec.options.get("float16_ids") and tok in by_tok
            }
            engines.forget()  # one batch at a time in memory
            yield ScoredBatch(batch, scores, used, failures, rounded)


def predict(
    bundle: Bundle, selection: Selection, texts: list[str]
) -> tuple[dict[str, np.ndarray], dict[str, str], dict[str, StepFailure]]:
    """(scores per runtime that ran, tokenizer used per runtime, failures per runtime that did not)."""
    with Engines(bundle, selection.runtimes) as engines:
        engines.prepare()
        scores, used = engines.text_scores(texts)
        failures = {rid: f for rid, f in engines.failures.items() if rid in engines.runtimes}
        return scores, used, failures


class RoundedIds:
    """What float16 id storage (webgl16) did to a predict run, per runtime that has it: how many
    cases held an id it rounds, and how far from the reference those and the others scored."""

    def __init__(self, reference: str) -> None:
        self.reference = reference
        self.cases: dict[str, int] = {}
        self.hit: dict[str, int] = {}
        self.max_diff: dict[str, tuple[float, float]] = {}  # rid -> (on cases with rounded ids, on the others)

    def add(self, scored: ScoredBatch) -> None:
        ref = scored.scores.get(self.reference)
        for rid, mask in scored.rounded_ids.items():
            self.cases[rid] = self.cases.get(rid, 0) + len(mask)
            self.hit[rid] = self.hit.get(rid, 0) + int(mask.sum())
            if ref is not None and rid in scored.scores:
                diff = np.abs(scored.scores[rid] - ref)
                with_ids, without = self.max_diff.get(rid, (0.0, 0.0))
                self.max_diff[rid] = (max([with_ids, *diff[mask]]), max([without, *diff[~mask]]))

    def lines(self) -> list[str]:
        """One line per runtime whose ids were rounded, for stderr."""
        out = []
        for rid, hit in self.hit.items():
            if not hit:
                continue
            vs = ""
            if rid in self.max_diff:
                with_ids, without = self.max_diff[rid]
                vs = f" (max |diff| vs {self.reference}: {with_ids:.3g} on those, {without:.2g} on the others)"
            out.append(
                f"{rid}: {hit} of {self.cases[rid]} cases hold token ids above {float16_ids.EXACT_MAX}, which float16 "
                f"textures round to other ids before the embedding lookup{vs}; their scores are not the model's "
                "(docs/phones.md)"
            )
        return out
