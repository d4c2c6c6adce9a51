"""A team's own preprocessing file -> the bundle's tokenizer.json, of the kind it is.

`--tokenizer FILE` accepts what Keras writes, as it writes it:
- the JSON of tf_keras `Tokenizer.to_json()` (also when it was json.dump-ed once more, as a
  JSON string holding the JSON, which many notebooks do) -> keras-tokenizer, with the
  sequence settings of `pad_sequences` (--maxlen, --padding, --truncating; Keras's defaults
  are "pre" for both and value 0);
- a TextVectorization config (`layer.get_config()`, or `{"class_name": "TextVectorization",
  "config": ...}`) whose "vocabulary" is the token list or the path of a vocabulary file
  (one token per line as Keras reads it, or a JSON list), relative to FILE -> text-vectorization;
- a harness-tokenizer/1 spec (or any spec this harness wrote) as it is.

The result is checked by the real implementation (tf_keras / Keras build it and tokenize a
probe text), so a spec the reference cannot apply is refused here, not mid-run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.core import json_reader
from harness.core.errors import HarnessError
from harness.core.tokenizer import kinds
from harness.core.tokenizer.reference import Tokenizer, TokenizerSpecError

PROBE = "A probe text: does the reference load it?"


def read_tokenizer(
    path: str | Path,
    maxlen: int | None = None,
    padding: str | None = None,
    *,
    truncating: str | None = None,
    model_length: int | None = None,
) -> dict[str, Any]:
    """The normalized tokenizer.json for FILE; `model_length` is the length when --maxlen is not given."""
    path = Path(path)
    data: Any = json_reader.read_file(path, "tokenizer file")
    if isinstance(data, str):  # json.dump(tokenizer.to_json(), f): the JSON inside a JSON string
        data = json_reader.loads(data, f"{path} (the JSON inside its string)")
    if not isinstance(data, dict):
        raise HarnessError(
            f"{path}: expected a JSON object (Tokenizer.to_json(), a TextVectorization config or a spec)"
        )
    length = maxlen or model_length
    try:
        if data.get("format") in kinds.FORMATS:
            spec = _own(data, maxlen, padding, truncating=truncating)
        elif data.get("class_name") == "Tokenizer":
            spec = _keras(data, length, padding, truncating=truncating)
        elif data.get("class_name") == "TextVectorization" or "output_mode" in data or "standardize" in data:
            spec = _text_vectorization(
                data.get("config", data), path.parent, length, padding=padding, truncating=truncating
            )
        else:
            raise kinds.KindError("not a Keras Tokenizer JSON, a TextVectorization config or a harness spec")
        kinds.info(spec)
    except kinds.KindError as e:
        raise HarnessError(f"{path}: {e}") from None
    check_with_reference(path, spec)
    return spec


def _keras(data: dict[str, Any], length: int | None, padding: str | None, *, truncating: str | None) -> dict[str, Any]:
    if length is None:
        raise kinds.KindError("a keras-tokenizer needs --maxlen N (the model's input length)")
    sequence = {"maxlen": length, "padding": padding or "pre", "truncating": truncating or "pre", "value": 0}
    return {"format": kinds.format_of(kinds.KERAS_TOKENIZER), "tokenizer": data, "sequence": sequence}


def _text_vectorization(
    config: dict[str, Any], base: Path, length: int | None, *, padding: str | None, truncating: str | None
) -> dict[str, Any]:
    if "pre" in (padding, truncating):
        raise kinds.KindError(
            "TextVectorization pads and truncates at the end only (post); drop --padding/--truncating pre"
        )
    config = dict(config)
    configured = config.get("output_sequence_length")
    if length is not None and configured not in (None, length):
        raise kinds.KindError(f"output_sequence_length is {configured}, --maxlen or the model says {length}")
    config["output_sequence_length"] = configured or length
    vocabulary = config.pop("vocabulary", None)
    if isinstance(vocabulary, str):
        vocabulary = _vocabulary_file(base / vocabulary)
    if not isinstance(vocabulary, list) or not vocabulary:
        raise kinds.KindError('the config has no "vocabulary": set it to the token list or a vocabulary file path')
    for name in ("standardize", "split"):
        if config.get(name) is not None and not isinstance(config.get(name), str):
            raise kinds.KindError(f"{name} is a custom function; only Keras's built-in {name} options can be replayed")
    config["vocabulary"] = None
    return {"format": kinds.format_of(kinds.TEXT_VECTORIZATION), "config": config, "vocabulary": vocabulary}


def _vocabulary_file(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise kinds.KindError(f"vocabulary file {path}: {e}") from None
    if path.suffix == ".json":
        try:
            words = json_reader.parse(text)
        except json_reader.JsonProblem as e:
            raise kinds.KindError(f"vocabulary file {path}: {e.what}") from None
        if not isinstance(words, list):
            raise kinds.KindError(f"vocabulary file {path}: expected a JSON array of words")
        return list(words)
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _own(data: dict[str, Any], maxlen: int | None, padding: str | None, *, truncating: str | None) -> dict[str, Any]:
    spec = json.loads(json.dumps(data))
    kind = kinds.kind_of(spec)
    if kind == kinds.HARNESS:
        spec.update({k: v for k, v in (("length", maxlen), ("padding", padding), ("truncation", truncating)) if v})
    elif kind == kinds.KERAS_TOKENIZER:
        spec["sequence"].update(
            {k: v for k, v in (("maxlen", maxlen), ("padding", padding), ("truncating", truncating)) if v}
        )
    elif maxlen:
        spec["config"]["output_sequence_length"] = maxlen
    return spec


def check_with_reference(path: Path, spec: dict[str, Any]) -> None:
    """Build the reference for the spec and tokenize one probe text, or refuse the file in one line."""
    kind = kinds.kind_of(spec)
    try:
        if kind == kinds.HARNESS:
            Tokenizer(spec).encode(PROBE)
            return
        from runtimes.tokenizers.in_process import build

        build(kind, spec)([PROBE])
    except (TokenizerSpecError, KeyError, TypeError, ValueError) as e:
        raise HarnessError(f"{path}: the {kind} reference cannot apply it ({e})") from None
    except Exception as e:  # tf_keras / Keras raise many types for a bad config
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
        raise HarnessError(f"{path}: the {kind} reference cannot apply it ({first})") from None
