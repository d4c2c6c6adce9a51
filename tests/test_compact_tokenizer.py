"""The compact tokenizer the web app ships (tokenizer.txt: a JSON header, then one word a line)
is the very spec of tokenizer.json: read back in Python and, with the app's own tokenizer.js,
in Node, it gives the reference's ids on the golden texts and hard cases; a truncated or
foreign file is refused; and it is smaller than the JSON on the wire."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from node_script import run_json

from harness.core import compact_tokenizer
from harness.core.cases import read_cases
from harness.core.errors import HarnessError
from harness.core.paths import GOLDEN, REPO
from harness.core.tokenizer.reference import Tokenizer

SPEC = GOLDEN / "reference" / "tokenizer.json"
APP_TOKENIZER = REPO / "apps" / "web" / "src" / "tokenizer.js"

# Reads the compact file and the texts, prints the spec it parsed and the ids of every text.
_NODE = """
import { readFileSync } from "node:fs";
import { Tokenizer, parseCompact } from %s;
const [compactPath, textsPath] = process.argv.slice(1);
try {
  const spec = parseCompact(readFileSync(compactPath, "utf8"));
  const texts = JSON.parse(readFileSync(textsPath, "utf8"));
  process.stdout.write(JSON.stringify({ spec, ids: new Tokenizer(spec).encodeBatch(texts) }));
} catch (e) {
  process.stdout.write(JSON.stringify({ error: `${e.name}: ${e.message}` }));
}
"""


def _node(compact: Path, texts: list[str], tmp: Path) -> dict:
    if shutil.which("node") is None:
        pytest.skip("node is not installed (make setup installs Node 20 for the web app)")
    (tmp / "texts.json").write_text(json.dumps(texts), encoding="utf-8")
    return run_json(_NODE % json.dumps(APP_TOKENIZER.as_uri()), str(compact), str(tmp / "texts.json"))


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [c.text for c in read_cases(GOLDEN / "hard_cases.jsonl")] + [
        c.text for c in read_cases(GOLDEN / "texts.jsonl")
    ][:300]


def test_python_reads_back_the_spec() -> None:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    assert compact_tokenizer.parse_compact(compact_tokenizer.compact_text(spec)) == spec


def test_the_app_tokenizer_reads_it_and_gives_the_reference_ids(tmp_path: Path, texts: list[str]) -> None:
    compact = tmp_path / compact_tokenizer.COMPACT
    compact_tokenizer.write_compact(SPEC, compact)
    got = _node(compact, texts, tmp_path)
    assert "error" not in got, got
    assert got["spec"] == json.loads(SPEC.read_text(encoding="utf-8"))
    reference = Tokenizer.from_file(str(SPEC)).encode_batch(texts)
    assert got["ids"] == reference


def test_a_truncated_file_is_refused(tmp_path: Path) -> None:
    data = compact_tokenizer.compact_bytes(SPEC)
    cut = tmp_path / "cut.txt"
    cut.write_bytes(data[: data.rindex(b"\n")])  # the last word lost
    with pytest.raises(HarnessError, match="words, the header says"):
        compact_tokenizer.parse_compact(cut.read_text(encoding="utf-8"))
    assert "header says" in _node(cut, [], tmp_path)["error"]
    foreign = tmp_path / "foreign.txt"
    foreign.write_text(SPEC.read_text(encoding="utf-8"), encoding="utf-8")  # the JSON spec itself
    assert "compact format" in _node(foreign, [], tmp_path)["error"]


def test_a_vocabulary_with_a_newline_is_refused() -> None:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    spec["vocab"][5] = "two\nwords"
    with pytest.raises(HarnessError, match="without newlines"):
        compact_tokenizer.compact_text(spec)


def test_it_is_smaller_than_the_json_on_the_wire() -> None:
    def gz(data: bytes) -> int:
        return len(gzip.compress(data, compresslevel=9, mtime=0))

    assert gz(compact_tokenizer.compact_bytes(SPEC)) < gz(SPEC.read_bytes())


def test_fold_runs_cover_pairs_and_keep_the_rest() -> None:
    fold = {"65": "a", "66": "b", "67": "c", "256": "ā", "258": "ă", "260": "ą", "223": "ss", "8544": "i", "200": "È"}
    runs, rest = compact_tokenizer.fold_runs(fold)
    assert [65, 3, 1, 32] in runs and [256, 3, 2, 1] in runs  # A-C -> a-c; Latin pairs every other one
    assert rest == {"223": "ss"}  # a replacement of two code points is kept as it is
    assert compact_tokenizer.unfold_runs(runs, rest) == fold
