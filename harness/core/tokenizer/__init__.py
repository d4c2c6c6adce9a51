"""The tokenizer concept in the core, read without any framework: the harness's own spec and
its encoder (`reference`, pure stdlib, the very file Pyodide runs), the kinds of spec a bundle
can hold (`kinds`), and the app's own tokenizer module named by path (`app_tokenizer`).

Its runtimes are in runtimes/tokenizers/, its building and import in harness/data/tokenizer/,
its parity checks in harness/check/tokenizer/. Nothing is imported here, so reading one part
never loads another.
"""
