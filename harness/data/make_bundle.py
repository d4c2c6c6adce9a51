"""`harness bundle`: make a reference bundle from any Keras 3 text classifier.

The model must take int32 [N, L] token ids and end in sigmoid [N, 1] or softmax [N, C];
the tokenizer is reused from an existing bundle, so L and the vocabulary must fit it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from harness.core import atomic, bundle
from harness.core.errors import HarnessError
from harness.data.training import signature


def _describe(model: Any, path: Path, length: int, vocab_size: int) -> dict[str, Any]:
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
    embeddings = [layer for layer in model.layers if layer.__class__.__name__ == "Embedding"]
    if embeddings and embeddings[0].input_dim < vocab_size:
        raise HarnessError(
            f"{path}: embedding has {embeddings[0].input_dim} rows but the tokenizer emits ids up to {vocab_size - 1}"
        )
    out_shape = tuple(outputs[0].shape)
    if len(out_shape) != 2 or not out_shape[1]:
        raise HarnessError(
            f"{path}: output shape {list(out_shape)}; expected [None, 1] (sigmoid) or [None, C] (softmax)"
        )
    classes = int(out_shape[1])
    return signature(length, vocab_size, "sigmoid" if classes == 1 else "softmax", classes)


def make_bundle(model_file: str, like: str, out: str) -> str:
    from runtimes.frameworks import import_keras

    source = Path(model_file)
    if not source.is_file() or source.suffix != ".keras":
        raise HarnessError(f"{source}: expected an existing Keras 3 model file (.keras)")
    base = bundle.load(like)
    tok = base.tokenizer()
    keras = import_keras()
    try:
        model = keras.saving.load_model(source, compile=False)
    except Exception as e:  # keras raises many types for a bad file
        raise HarnessError(f"{source}: Keras cannot load it ({str(e).splitlines()[0][:200]})") from None
    sig = _describe(model, source, tok.length, tok.vocab_size)
    bundle.check_replaceable(Path(out))
    with atomic.staged_dir(Path(out)) as stage:
        shutil.copyfile(source, stage / bundle.MODEL)
        shutil.copyfile(base.tokenizer_path, stage / bundle.TOKENIZER)
        atomic.write_json(stage / bundle.SIGNATURE, sig)
        atomic.write_json(stage / bundle.METRICS, {"source_model": str(source), "tokenizer_from": base.hash})
        return bundle.write_manifest(stage)
