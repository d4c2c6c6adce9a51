"""Cross-runtime conformance harness for a shipped text classifier.

Importing this package imports no framework (TensorFlow, coremltools, Playwright): the
modules that need one import it inside the function that uses it.
"""

__version__ = "0.1.0"
