"""The `py` tokenizer runtime, in this process: the reference implementation of the bundle's kind of spec.

harness-tokenizer is harness/core/tokenizer/reference.py (pure stdlib); keras-tokenizer is tf_keras's
Tokenizer + pad_sequences; text-vectorization is the Keras 3 layer. The Keras modules are
imported only for their kind, so the default bundle never imports TensorFlow to tokenize.
A text the reference itself raises on becomes a `Thrown` for that text alone: the batch is
retried one text at a time to find it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.core.bundle import Bundle
from harness.core.errors import HarnessError
from harness.core.tokenizer import kinds as tokenizer_kinds
from runtimes.tokenizers.outcome import Outcome, Thrown

Encoder = Callable[[list[str]], list[list[int]]]
_ENCODERS: dict[str, Encoder] = {}  # tokenizer.json sha256 -> its reference encoder


def build(kind: str, spec: dict[str, Any]) -> Encoder:
    """The reference encoder of a Keras kind of spec (tf_keras or Keras imported now)."""
    if kind == tokenizer_kinds.KERAS_TOKENIZER:
        from runtimes.tokenizers.keras_tokenizer import KerasTokenizerReference

        return KerasTokenizerReference(spec).encode_batch
    from runtimes.tokenizers.text_vectorization import TextVectorizationReference

    return TextVectorizationReference(spec).encode_batch


def encoder(bundle: Bundle) -> Encoder:
    kind = bundle.tokenizer_kind
    if kind == tokenizer_kinds.HARNESS:
        return bundle.tokenizer().encode_batch  # type: ignore[return-value]
    key = str(bundle.manifest.get("files", {}).get("tokenizer.json", {}).get("sha256", "")) or str(bundle.path)
    if key not in _ENCODERS:
        try:
            _ENCODERS[key] = build(kind, bundle.tokenizer_spec())
        except HarnessError:
            raise
        except Exception as e:  # tf_keras / Keras refuse a spec with many exception types
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
            raise HarnessError(f"{bundle.tokenizer_path}: the {kind} reference cannot load it ({first})") from None
    return _ENCODERS[key]


def outcomes(bundle: Bundle, texts: list[str]) -> list[Outcome]:
    encode = encoder(bundle)
    try:
        return list(encode(texts))
    except Exception:  # noqa: BLE001 - one bad text must not hide the others: retry one by one
        pass
    out: list[Outcome] = []
    for text in texts:
        try:
            out.extend(encode([text]))
        except Exception as e:  # noqa: BLE001 - the reference's own words, per text
            out.append(Thrown(f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0][:300]}"))
    return out
