"""Data: corpora, the tokenizer builder, the reference model and training, foreign-model bundles."""
