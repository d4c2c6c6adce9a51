"""`harness bundle`: make a reference bundle from any Keras text classifier (Keras 3, or a Keras 2
model from tf_keras, .h5 or .keras, run by tf_keras), with the artifacts a team ships (--artifact).

The model must take int32 [N, L] token ids and end in sigmoid [N, 1] or softmax [N, C]
probabilities (a linear last layer, i.e. logits, is wrapped in the activation and said, or
refused with --logits refuse: see model_output.py). The tokenizer is the team's own
(`--tokenizer FILE`: a Keras Tokenizer JSON or TextVectorization config,
harness/data/tokenizer/from_file.py) or is reused from an existing bundle (`--like`); either way L
and the id range must fit the model. `--app-tokenizer` names the app's own JavaScript port,
which then feeds the web runtimes (app_tokenizer.json).

An Embedding with fewer rows than the tokenizer's ids is refused (an id past the last row has
no defined result in some runtimes). One with more rows is accepted, with one warning line,
and its row count is recorded in signature.json (`input.embedding_rows`): a model trained
with a larger vocabulary than the tokenizer it ships with is legitimate (the extra rows are
simply never looked up), but a mismatch should never pass unseen.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from harness.core import atomic, bundle, keras_file, model_archive
from harness.core.errors import HarnessError
from harness.core.shipped import SHIPPED_FORMAT
from harness.core.tokenizer.app_tokenizer import APP_TOKENIZER, AppTokenizer
from harness.core.tokenizer.kinds import TokenizerInfo, info
from harness.data.adopt import adopt
from harness.data.model_output import ensure_probabilities
from harness.data.reproducible import normalize_keras_archive
from harness.data.tokenizer.from_file import read_tokenizer
from harness.data.training import signature


def _say(message: str) -> None:
    print(f"harness bundle: {message}", file=sys.stderr)


def _describe(model: Any, path: Path, length: int, *, vocab_size: int) -> dict[str, Any]:
    inputs, outputs = model.inputs, model.outputs
    if len(inputs) != 1 or len(outputs) != 1:
        raise HarnessError(f"{path}: expected one input and one output, got {len(inputs)} and {len(outputs)}")
    in_shape, in_dtype = tuple(inputs[0].shape), str(inputs[0].dtype)
    if len(in_shape) != 2 or in_shape[1] != length:
        raise HarnessError(
            f"{path}: input shape {list(in_shape)} does not take the tokenizer's ids (expected [None, {length}])"
        )
    if "int" not in in_dtype:
        raise HarnessError(f"{path}: input dtype {in_dtype}; expected int32 token ids")
    out_shape = tuple(outputs[0].shape)
    if len(out_shape) != 2 or not out_shape[1]:
        raise HarnessError(
            f"{path}: output shape {list(out_shape)}; expected [None, 1] (sigmoid) or [None, C] (softmax)"
        )
    classes = int(out_shape[1])
    sig = signature(length, vocab_size, "sigmoid" if classes == 1 else "softmax", classes=classes)
    embeddings = [layer for layer in model.layers if layer.__class__.__name__ == "Embedding"]
    if embeddings:
        rows = int(embeddings[0].input_dim)
        if rows < vocab_size:
            raise HarnessError(f"{path}: embedding has {rows} rows but the tokenizer emits ids up to {vocab_size - 1}")
        if rows > vocab_size:
            _say(
                f"warning: {path}: embedding {embeddings[0].name!r} has {rows} rows, the tokenizer emits ids "
                f"0..{vocab_size - 1} only (rows {vocab_size}..{rows - 1} are never used; recorded as embedding_rows)"
            )
            sig["input"]["embedding_rows"] = rows
    return sig


def load_keras_model(source: Path) -> Any:
    """The model in `source`, by the Keras that wrote it (core/keras_file.py)."""
    from runtimes.frameworks import load_keras_file

    try:
        return load_keras_file(source, keras_file.framework(source))
    except HarnessError:
        raise
    except Exception as e:  # keras raises many types for a bad file
        raise HarnessError(f"{source}: Keras cannot load it ({str(e).splitlines()[0][:200]})") from None


def _probe(tok: TokenizerInfo, seed: int = 0) -> np.ndarray:
    """Inputs to check the outputs on: an all-padding row and random ids over the whole id range."""
    rng = np.random.default_rng(seed)
    pad = np.full((1, tok.length), tok.pad_id, dtype=np.int32)
    return np.concatenate([pad, rng.integers(0, tok.vocab_size, size=(63, tok.length), dtype=np.int32)])


def _model_length(model: Any) -> int | None:
    shape = tuple(model.inputs[0].shape) if len(model.inputs) == 1 else ()
    return int(shape[1]) if len(shape) == 2 and shape[1] else None


def make_bundle(
    model_file: str,
    like: str | None,
    out: str,
    *,
    tokenizer: str | None = None,
    maxlen: int | None = None,
    padding: str | None = None,
    truncating: str | None = None,
    app: AppTokenizer | None = None,
    logits: str = "wrap",
    artifacts: dict[str, Path] | None = None,
) -> str:
    source = Path(model_file)
    if not source.is_file() or source.suffix not in (".keras", ".h5"):
        raise HarnessError(f"{source}: expected an existing Keras model file (.keras, or .h5 from tf_keras)")
    if tokenizer is None and (maxlen or padding or truncating):
        raise HarnessError("--maxlen, --padding and --truncating describe a --tokenizer FILE; give one")
    bundle.check_replaceable(Path(out))
    base = bundle.load(like) if tokenizer is None else None
    if source.suffix != ".h5":  # a .keras is a zip: its unpacked size is checked before Keras opens it
        model_archive.check_archive(source)
    keras2 = keras_file.framework(source) == keras_file.KERAS2
    model = load_keras_model(source)
    if base is not None:
        spec = base.tokenizer_spec()
        origin = base.hash
    else:
        spec = read_tokenizer(str(tokenizer), maxlen, padding, truncating=truncating, model_length=_model_length(model))
        origin = str(tokenizer)
    tok = info(spec)
    sig = _describe(model, source, tok.length, vocab_size=tok.vocab_size)
    if keras2:  # kept as its team saved it, so a linear last layer is refused rather than rewrapped
        logits = "refuse"
    model, wrapped = ensure_probabilities(
        model, source, int(sig["output"]["classes"]), probe=_probe(tok), logits=logits
    )
    if wrapped:
        sig["output"]["wrapped"] = wrapped
        _say(
            f"{source}: the last layer is linear (logits); wrapped in {wrapped}, so scores are probabilities "
            "(signature.json output.wrapped)"
        )
    with atomic.staged_dir(Path(out)) as stage:
        if wrapped:
            model.save(stage / bundle.MODEL)
            normalize_keras_archive(stage / bundle.MODEL)
        else:  # a Keras 2 .h5 keeps its format (bundle.MODEL_H5); a .keras of either Keras is model.keras
            (stage / (bundle.MODEL_H5 if source.suffix == ".h5" else bundle.MODEL)).write_bytes(source.read_bytes())
        if base is not None:
            (stage / bundle.TOKENIZER).write_bytes(base.tokenizer_path.read_bytes())
        else:
            atomic.write_text(stage / bundle.TOKENIZER, json.dumps(spec, indent=1) + "\n")  # ASCII: lone surrogates too
        if app is not None:
            atomic.write_json(stage / APP_TOKENIZER, app.as_json())
        atomic.write_json(stage / bundle.SIGNATURE, sig)
        metrics = {"source_model": str(source), "tokenizer_from": origin, "tokenizer_kind": tok.kind}
        metrics["model_framework"] = keras_file.framework(source)
        atomic.write_json(stage / bundle.METRICS, metrics)
        adopted = {target: adopt(stage, target, path) for target, path in (artifacts or {}).items()}
        if adopted:
            atomic.write_json(stage / bundle.SHIPPED, {"format": SHIPPED_FORMAT, "artifacts": adopted})
        return bundle.write_manifest(stage)
