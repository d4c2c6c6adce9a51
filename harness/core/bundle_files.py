"""The formats of the files inside a bundle besides its manifest: the model's signature
(signature.json), the tokenizer spec (tokenizer.json) and the training record (metrics.json).

pydantic models, read through harness.core.validate, so `tokenizer.json` = `[]` or a metrics
split without `n` ends in one line naming the file and the field. The tokenizer module itself
stays pure standard library (it runs unchanged in Pyodide); its own checks (ids inside the
vocabulary, known truncation) run after this shape check.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Count = Annotated[int, Field(ge=1)]


class SignatureInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "token_ids"
    dtype: Literal["int32"]
    shape: tuple[None, Count]
    vocab_size: Count  # ids the tokenizer emits: [0, vocab_size)
    # rows of the model's Embedding when it has more than the tokenizer can address (they are
    # never used; recorded so the mismatch is visible, see README "Any model, not only ours")
    embedding_rows: Count | None = None


class SignatureOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["sigmoid", "softmax"]
    classes: Count
    positive_index: int = Field(ge=0)
    # the activation `harness bundle` appended to a model that ended in logits (null: its own)
    wrapped: Literal["sigmoid", "softmax"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SignatureOutput:
        if (self.kind == "sigmoid") != (self.classes == 1):
            raise ValueError(f"a {self.kind} output has {'1 class' if self.kind == 'sigmoid' else '2 or more classes'}")
        if self.positive_index >= self.classes:
            raise ValueError(f"positive_index {self.positive_index} is not one of the {self.classes} classes")
        return self


class ModelSignature(BaseModel):
    """signature.json: int32 [N, L] ids in, sigmoid [N, 1] or softmax [N, C] out."""

    model_config = ConfigDict(extra="forbid")

    input: SignatureInput
    output: SignatureOutput


class TokenizerSpecShape(BaseModel):
    """The shape of tokenizer.json (harness-tokenizer/1); values are checked by the Tokenizer."""

    model_config = ConfigDict(extra="allow")

    format: str
    length: Count
    truncation: Literal["post", "pre"]
    padding: Literal["post", "pre"]
    pad_id: int = Field(ge=0)
    oov_id: int = Field(ge=0)
    separators: list[tuple[int, int]]
    fold: dict[Annotated[str, StringConstraints(pattern=r"^[0-9]+$")], str]
    vocab: list[str] = Field(min_length=2)


class SplitRecord(BaseModel):
    model_config = ConfigDict(extra="allow")

    accuracy: float = Field(ge=0, le=1)
    loss: float | None = None
    n: int = Field(ge=0)


class CorpusRecord(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    sha256: str | None = None
    reviews: int | None = None


class TrainingMetrics(BaseModel):
    """metrics.json: the bundle's own training record (free-form beyond these fields)."""

    model_config = ConfigDict(extra="allow")

    splits: dict[str, SplitRecord] = {}
    corpus: CorpusRecord | None = None
    seed: int | None = None
