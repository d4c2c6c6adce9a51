"""`harness compare TEXT...`: one review through every runtime, side by side.

Per tokenizer runtime the tokens (differences from the reference marked), per model runtime
the score, its difference from keras, within tolerance or not, and the minimum tolerance
that would pass. Exit 1 when anything is outside tolerance.
"""

from __future__ import annotations

import json
import shlex

import numpy as np

from harness.check.compare import judge
from harness.core.bundle import Bundle
from harness.run.engines import Engines
from runtimes.failures import RuntimeFailed
from runtimes.selection import Selection


def command_for(text: str, runtimes: list[str] | None = None, layers: bool = False) -> str:
    """A ready-to-paste command reproducing one case (used by failing tests and reports);
    `layers`: the per-layer view of it (`harness compare --layers`)."""
    parts = ["harness", "compare", *(["--layers"] if layers else [])]
    if runtimes:
        parts += ["--runtimes", ",".join(runtimes)]
    # JSON-escape what a shell cannot carry (controls, lone surrogates) via --json-text.
    if any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF for c in text):
        return shlex.join([*parts, "--json-text", json.dumps(text)])
    return shlex.join([*parts, text])


def run_compare(
    bundle: Bundle, texts: list[str], selection: Selection, *, tokenizer_ids: list[str], out: list[str]
) -> int:
    """Lines of the side-by-side view into `out`; 1 when anything is outside tolerance or failed."""
    info = bundle.tokenizer_info()
    tok = bundle.tokenizer() if info.kind == "harness-tokenizer" else None  # tokens: the harness's own kind
    failed = 0
    with Engines(bundle, selection.runtimes, tokenizer_ids) as engines:
        ids: dict[str, np.ndarray] = {}
        for t in tokenizer_ids:
            try:
                ids[t] = engines.tokenize(t, texts)
            except RuntimeFailed:
                continue
        scores, used = engines.text_scores(texts, ids)
        ref_tok = next((t for t in tokenizer_ids if t in ids), None)
        for i, text in enumerate(texts):
            shown = text if len(text) <= 200 else text[:200] + f"… ({len(text)} chars)"
            out.append(f"text: {json.dumps(shown, ensure_ascii=False)}")
            if tok is not None:
                out.append(f"  tokens (py): {tok.tokens(text, tok.length)}")
            for t in tokenizer_ids:
                if t not in ids or ref_tok is None:
                    out.append(f"  {t:<8} ERROR  {engines.failures[t].line()}")
                    failed += 1
                    continue
                row, ref_ids = ids[t][i], ids[ref_tok][i]
                same = np.array_equal(row, ref_ids)
                mark = "same" if same else f"DIFFERS at {np.flatnonzero(row != ref_ids).tolist()}"
                failed += 0 if same else 1
                out.append(f"  {t:<8} {row[row != info.pad_id].tolist()}  [{mark}]")
            ref = scores.get(engines.reference)
            out.append(f"  {'runtime':<20} {'score':>10} {'|diff|':>10}  {'within':<6} {'min tol':>9}  tokenizer")
            for rid in engines.runtime_ids:
                if rid not in scores:
                    out.append(f"  {rid:<20} {'ERROR':>10}  {engines.failures[rid].line()}")
                    failed += 1
                    continue
                s = scores[rid][i]
                if ref is None or rid == engines.reference:
                    out.append(f"  {rid:<20} {s:>10.6f} {'-':>10}  {'-':<6} {'-':>9}  {used[rid]}")
                    continue
                cmp = judge(engines, rid, reference=ref[i : i + 1], other=scores[rid][i : i + 1])
                failed += 0 if cmp.passed else 1
                verdict = "yes" if cmp.passed else "NO"
                out.append(
                    f"  {rid:<20} {s:>10.6f} {abs(s - ref[i]):>10.2e}  {verdict:<6} {cmp.min_atol:>9.2e}  {used[rid]}"
                )
    return 1 if failed else 0
