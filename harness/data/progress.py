"""Progress on a terminal, silence in CI logs."""

from __future__ import annotations

import sys
from typing import Any


class EpochProgress:
    """A rich progress bar over epochs when stderr is a terminal; nothing otherwise."""

    def __init__(self, total: int, description: str = "training") -> None:
        self.total = total
        self.description = description
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> EpochProgress:
        if sys.stderr.isatty():
            from rich.progress import Progress

            self._progress = Progress(transient=True)
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=self.total)
        return self

    def update(self, epoch: int, logs: dict[str, float]) -> None:
        if self._progress is not None:
            acc = logs.get("val_accuracy")
            note = f"{self.description} epoch {epoch + 1}" + (f" val_acc {acc:.3f}" if acc is not None else "")
            self._progress.update(self._task, completed=epoch + 1, description=note)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
