"""Tokenizer parity against the reference: the ids that differ (`ids`), the divergence class
of each case (`classes`), the shortest input that still shows a class (`shrink`), and
`harness tokenize`'s verdict over them (`parity`)."""
