"""Silence native libraries (TensorFlow's C++ logging writes straight to fd 2)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def native_stderr(replay: bool = True) -> Iterator[None]:
    """Swallow fd-level stderr; if the block fails, replay what was said (unless the caller turns
    the failure into its own one-line error: `replay=False`), then re-raise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            if replay:
                sink.seek(0)
                sys.stderr.write(sink.read().decode("utf-8", "replace")[-4000:])
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
