"""The fixed fast sample: for every op that passes in the full replay, in each precision, one
passing case (not of a test function whose inputs the op sometimes refuses, DATA_DEPENDENT),
preferring smoke tests and then the quickest; regenerated from replay summaries
by `python -m tests.apple_ops.replay --make-sample SUMMARY.json [MORE.json ...]`.

Each line of sample.txt is a pytest node id relative to the op tests dir; the sample replay
must pass all of them (a refusal or a mismatch there is a regression).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SAMPLE_FILE = Path(__file__).with_name("sample.txt")
DATA_DEPENDENT = ("repeated indices",)  # refusal reasons that depend on input values, not parameters
HEADER = "# Apple's MIL op tests replayed by `make test` (tests/apple_ops/sample.py says how they are chosen)\n"


def choose(summaries: list[dict[str, Any]]) -> list[str]:
    """Greedy cover of (op, precision) by passing cases, rarest op first."""
    seconds = {t: v["seconds"] for s in summaries for t, v in s["tests"].items()}
    # A test function with a case refused for what its inputs hold (random indices that may repeat,
    # in scatter_along_axis's programmatic test) may be refused on the next draw: not sampled.
    unstable = {
        _function(c["test"])
        for s in summaries
        for c in s["cases"]
        if c["status"] == "refused" and any(why in (c["reason"] or "") for why in DATA_DEPENDENT)
    }
    passing = [
        c
        for s in summaries
        for c in s["cases"]
        if c["status"] == "passed" and "#" not in c["test"] and _function(c["test"]) not in unstable
    ]
    by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for c in passing:
        for op in c["ops"]:
            if op != "const":
                by_key.setdefault((op, c["precision"]), []).append(c)
    chosen: dict[str, None] = {}
    covered: set[tuple[str, str]] = set()
    for key in sorted(by_key, key=lambda k: (len(by_key[k]), k)):
        if key in covered:
            continue
        best = min(by_key[key], key=lambda c: ("smoke" not in c["test"], seconds.get(c["test"], 1e9), c["test"]))
        chosen[best["test"]] = None
        covered |= {(op, best["precision"]) for op in best["ops"]}
    return sorted(chosen)


def _function(test: str) -> str:
    """The test function of a node id (without its parameters or call number)."""
    return test.split("[")[0].split("#")[0]


def write(summaries: list[dict[str, Any]]) -> list[str]:
    """Write sample.txt from replay summaries (node ids are relative to the op tests dir)."""
    ids = choose(summaries)
    SAMPLE_FILE.write_text(HEADER + "".join(f"{i}\n" for i in ids))
    return ids


def read() -> list[str]:
    lines = (ln.strip() for ln in SAMPLE_FILE.read_text().splitlines())
    return [ln for ln in lines if ln and not ln.startswith("#")]
