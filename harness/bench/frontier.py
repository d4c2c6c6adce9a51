"""`harness frontier`: how small the shipped model can get before it stops agreeing.

A model in an app must be small and fast before it is a point more accurate, so this trains a
small grid of smaller variants of the reference architecture (vocabulary size, embedding width,
filters) with the same training code, exports each with the same TF.js exporters (u8 and f16
weights) and scores the held-out split with keras and the exported artifact in the real TF.js
wasm runtime. Per variant and weight format: held-out accuracy (of the exported model, which is
what ships), decision agreement with the reference bundle's keras decisions, first-visit gzip
bytes (model + tokenizer + the app's code for the first prediction) and an ESTIMATE of the
time to first prediction on the phone profile from those bytes and the profile's round-trip
time and bandwidth (no browser visit per variant: a cold phone visit takes ~10 s each).
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.core import compact_tokenizer, config
from harness.core.bundle import Bundle
from harness.core.bundle import load as load_bundle
from harness.core.errors import HarnessError
from harness.core.paths import cache_dir
from harness.data.distill import Vocabulary

WEIGHTS = {"tfjs-u8": "tfjs-wasm@u8", "tfjs-f16": "tfjs-wasm@f16"}  # export target -> runtime that runs it
# The round trips before a first prediction when the model files are preloaded beside the script:
# the HTML, then the script and the model files in one wave (apps/web keeps it within the six
# connections a browser opens to an origin).
ROUND_TRIPS = 2
# Seconds a variant takes here (train ~10 s, two exports, a wasm run), for the bound printed up front.
SECONDS_PER_VARIANT = 60.0


MIN_COUNT = Vocabulary().min_count  # the reference tokenizer's (harness/data/distill.py)


@dataclass(frozen=True)
class Variant:
    """One point of the grid: the reference architecture with smaller sizes."""

    vocab: int
    embedding: int
    filters: int
    # A word seen fewer times than this in the training split is out of vocabulary (the reference
    # uses 3): pruning the words the model barely saw shrinks the embedding and the tokenizer together.
    min_count: int = MIN_COUNT

    @property
    def name(self) -> str:
        pruned = f"-m{self.min_count}" if self.min_count != MIN_COUNT else ""
        return f"v{self.vocab}-e{self.embedding}-f{self.filters}{pruned}"


DEFAULT_GRID = (
    Variant(10_000, 8, 128),  # the reference's sizes, retrained here with one seed (the grid's yardstick)
    Variant(10_000, 32, 64, 2),  # the reference until issue 27 (its teachers' sizes), distilled too
    Variant(10_000, 16, 128),
    Variant(10_000, 4, 128),
    Variant(10_000, 8, 64),
    Variant(10_000, 8, 128, 2),
    Variant(10_000, 8, 128, 5),
    Variant(4_000, 8, 128),
    Variant(2_000, 8, 64),
    Variant(1_000, 8, 32),
)


def parse_grid(text: str) -> list[Variant]:
    """`VOCAB:EMBED:FILTERS[:MIN_COUNT],...` -> variants; a bad item is one line naming it."""
    out = []
    for item in (t.strip() for t in text.split(",") if t.strip()):
        parts = item.split(":")
        try:
            if len(parts) not in (3, 4):
                raise ValueError(item)
            vocab, embed, filters, *rest = (int(p) for p in parts)
        except ValueError:
            raise HarnessError(
                f"--grid item {item!r}: expected VOCAB:EMBEDDING:FILTERS[:MIN_COUNT], whole numbers"
            ) from None
        min_count = rest[0] if rest else MIN_COUNT
        if vocab < 3 or embed < 1 or filters < 1 or min_count < 1:
            raise HarnessError(f"--grid item {item!r}: vocabulary >= 3, embedding, filters and min count >= 1")
        out.append(Variant(vocab, embed, filters, min_count))
    if not out:
        raise HarnessError("--grid: no variant given")
    return out


def _gzip_bytes(path: Path) -> int:
    """Gzip bytes of the tokenizer as the app ships it: the compact form of the spec at `path`."""
    return len(gzip.compress(compact_tokenizer.compact_bytes(path), compresslevel=9, mtime=0))


def phone_estimate_ms(first_visit_bytes: int, profile: Any) -> float:
    """Round trips x RTT + bytes over the profile's bandwidth: the network's share alone (the
    phone's CPU time is not in it; the measured app adds about a second on top here)."""
    return round(ROUND_TRIPS * profile.latency_ms + first_visit_bytes * 8 / (profile.download_kbps * 1024) * 1000, 1)


def _decisions(scores: np.ndarray) -> np.ndarray:
    return np.asarray(scores) > config.threshold()


def _scores(bundle: Bundle, runtimes: list[str], texts: list[str]) -> dict[str, Any]:
    from harness.run.predict import predict
    from runtimes.selection import select

    selection = select(",".join(runtimes), strict=False)
    scores, _, failures = predict(bundle, selection, texts)
    missing = {rid: str(m) for rid, m in selection.unavailable.items()}
    return {"scores": scores, "failures": {**missing, **{rid: str(f) for rid, f in failures.items()}}}


def _train(variant: Variant, reference: Bundle, seed: int, *, root: Path) -> Bundle:
    """The variant's bundle, trained once per (sizes, seed) and kept in the cache, the way the
    reference was (its hyperparameters beside the sizes, its teachers if it was distilled)."""
    from dataclasses import replace

    from harness.data import training

    out = root / f"{variant.name}-s{seed}"
    try:
        return load_bundle(out)
    except HarnessError:
        pass
    from harness.data import distill, text_cnn

    recorded = reference.metrics()
    fields = text_cnn.Hyperparameters.__dataclass_fields__
    hp_base = text_cnn.Hyperparameters(**{k: v for k, v in recorded.get("hyperparameters", {}).items() if k in fields})
    hp = replace(hp_base, embedding_dim=variant.embedding, filters=variant.filters)
    teachers = distill.Teachers.from_record(recorded["distillation"]) if "distillation" in recorded else None
    corpus_name = recorded.get("corpus", {}).get("name", "movie-reviews")
    vocabulary = distill.Vocabulary(max_vocab=variant.vocab, min_count=variant.min_count)
    training.train_bundle(corpus_name, out, seed, hp=hp, vocabulary=vocabulary, teachers=teachers)
    return load_bundle(out)


def _measure_variant(
    variant: Variant,
    *,
    reference: Bundle,
    texts: list[str],
    labels: np.ndarray,
    ref_decisions: np.ndarray,
    app_code_bytes: int,
    profile: Any,
    seed: int,
    root: Path,
) -> list[dict[str, Any]]:
    from harness import export

    b = _train(variant, reference, seed, root=root)
    tokenizer_bytes = _gzip_bytes(b.tokenizer_path)
    artifacts = {target: export.export(b, target) for target in WEIGHTS}
    run = _scores(b, ["keras", *WEIGHTS.values()], texts)
    rows = []
    for target, runtime in WEIGHTS.items():
        art = artifacts[target]
        model_bytes = sum(int(e["gzip_bytes"]) for e in art.files.values())
        row: dict[str, Any] = {
            "variant": variant.name,
            "vocab": b.signature().vocab_size,
            "embedding": variant.embedding,
            "filters": variant.filters,
            "min_count": variant.min_count,
            "weights": target,
            "runtime": runtime,
            "model_gzip_bytes": model_bytes,
            "tokenizer_gzip_bytes": tokenizer_bytes,
            "app_code_gzip_bytes": app_code_bytes,
            "first_visit_gzip_bytes": model_bytes + tokenizer_bytes + app_code_bytes,
            "keras_accuracy": round(float(np.mean(_decisions(run["scores"]["keras"]) == labels)), 6)
            if "keras" in run["scores"]
            else None,
        }
        row["phone_first_prediction_estimate_ms"] = phone_estimate_ms(row["first_visit_gzip_bytes"], profile)
        if runtime in run["scores"]:
            decided = _decisions(run["scores"][runtime])
            row["accuracy"] = round(float(np.mean(decided == labels)), 6)
            row["agreement"] = round(float(np.mean(decided == ref_decisions)), 6)
        else:
            row["accuracy"] = row["agreement"] = None
            row["failure"] = run["failures"].get(runtime, "did not run")
        rows.append(row)
    return rows


def pareto(rows: Sequence[dict[str, Any]]) -> list[int]:
    """Indices of the rows no other row beats on both bytes (fewer) and accuracy (higher)."""
    ok = [(i, r) for i, r in enumerate(rows) if r.get("accuracy") is not None]
    front = []
    for i, r in ok:
        dominated = any(
            o["first_visit_gzip_bytes"] <= r["first_visit_gzip_bytes"]
            and o["accuracy"] >= r["accuracy"]
            and (o["first_visit_gzip_bytes"] < r["first_visit_gzip_bytes"] or o["accuracy"] > r["accuracy"])
            for _, o in ok
        )
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: rows[i]["first_visit_gzip_bytes"])


def smallest_within(rows: Sequence[dict[str, Any]], reference_accuracy: float, points: float = 1.0) -> int | None:
    """The row with the fewest first-visit bytes whose accuracy is within `points` of the reference."""
    near = [
        i
        for i, r in enumerate(rows)
        if r.get("accuracy") is not None and r["accuracy"] >= reference_accuracy - points / 100
    ]
    return min(near, key=lambda i: rows[i]["first_visit_gzip_bytes"]) if near else None


def run_frontier(
    grid: Sequence[Variant],
    *,
    bundle: str | Path | None = None,
    seed: int = 1234,
    app_code_bytes: int,
    budget_seconds: float = 600.0,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Trains, exports and measures each variant in turn, within `budget_seconds` (a variant that
    would start after the budget is spent is listed as skipped, with that reason)."""
    from harness.data import corpus
    from runtimes.browser.driver import DeviceProfile

    reference = load_bundle(bundle)
    profile = DeviceProfile()
    held = corpus.held_out(reference)
    texts, labels = [r.text for r in held], np.asarray([r.label for r in held]) > 0.5
    ref_run = _scores(reference, ["keras"], texts)
    if "keras" not in ref_run["scores"]:
        raise HarnessError(f"frontier: the reference bundle did not run on keras ({ref_run['failures'].get('keras')})")
    ref_decisions = _decisions(ref_run["scores"]["keras"])
    ref_accuracy = round(float(np.mean(ref_decisions == labels)), 6)
    expected = SECONDS_PER_VARIANT * len(grid)
    say(
        f"frontier: {len(grid)} variants x {len(WEIGHTS)} weight formats on {len(texts)} held-out reviews; "
        f"about {expected:.0f} s ({SECONDS_PER_VARIANT:.0f} s a variant, less for those already trained), "
        f"no new variant starts after {budget_seconds:.0f} s"
    )
    root = cache_dir() / "frontier"
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    started = time.perf_counter()
    for n, variant in enumerate(grid, 1):
        elapsed = time.perf_counter() - started
        if elapsed > budget_seconds:
            skipped.append({"variant": variant.name, "reason": f"time budget of {budget_seconds:.0f} s spent"})
            say(f"[{n}/{len(grid)}] {variant.name}: skipped (time budget of {budget_seconds:.0f} s spent)")
            continue
        say(f"[{n}/{len(grid)}] {variant.name}: training, exporting, scoring ({elapsed:.0f} s so far)")
        t0 = time.perf_counter()
        got = _measure_variant(
            variant,
            reference=reference,
            texts=texts,
            labels=labels,
            ref_decisions=ref_decisions,
            app_code_bytes=app_code_bytes,
            profile=profile,
            seed=seed,
            root=root,
        )
        rows.extend(got)
        best = max(got, key=lambda r: r.get("accuracy") or 0)
        say(
            f"[{n}/{len(grid)}] {variant.name}: done in {time.perf_counter() - t0:.0f} s "
            f"(accuracy {best.get('accuracy')}, {best['first_visit_gzip_bytes']:,} B first visit)"
        )
    front = pareto(rows)
    for i, r in enumerate(rows):
        r["pareto"] = i in front
    pick = smallest_within(rows, ref_accuracy)
    return {
        "format": "harness-frontier/1",
        "reference": {"bundle_hash": reference.hash, "accuracy": ref_accuracy, "held_out": len(texts)},
        "profile": profile.describe(),
        "estimate": f"phone time = {ROUND_TRIPS} round trips x RTT + first-visit bytes / bandwidth (network only)",
        "seed": seed,
        "rows": rows,
        "skipped": skipped,
        "smallest_within_1_point": rows[pick]["variant"] + " " + rows[pick]["weights"] if pick is not None else None,
        "seconds": round(time.perf_counter() - started, 1),
    }
