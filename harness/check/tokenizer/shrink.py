"""The shortest input that still shows a divergence class: Hypothesis shrinking over text.

Seeded from the shortest case that showed the class, an input is a byte mask over the seed's
characters (a zero byte drops that character). Hypothesis draws masks at random, which keep
almost every character (random bytes are rarely zero), so the first draws show the class;
it then shrinks the mask toward zeros, that is toward the shortest subsequence of the seed
on which the runtime still shows the same class against the reference. The condition runs
both tokenizers on one text, so each class has a wall-clock budget: once it is spent, no
new text counts and Hypothesis stops with the shortest found so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

MAX_SEED_CHARS = 4000  # Hypothesis draws at most 8 KiB of choices per example
BUDGET_SECONDS = 15.0


def shrink(seed: str, shows: Callable[[str], bool], budget_s: float = BUDGET_SECONDS) -> str | None:
    """The shortest subsequence of `seed` found on which `shows` holds; None if the seed is
    too long to shrink this way or does not show it itself (a flaky runtime)."""
    if len(seed) > MAX_SEED_CHARS or not shows(seed):
        return None
    if seed == "":
        return seed
    memo: dict[str, bool] = {seed: True}
    deadline = time.monotonic() + budget_s

    def holds(mask: bytes) -> bool:
        text = "".join(c for c, keep in zip(seed, mask, strict=True) if keep)
        if text not in memo:
            memo[text] = time.monotonic() < deadline and shows(text)
        return memo[text]

    config = settings(
        database=None,
        max_examples=200,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )  # same input every run
    try:
        mask = find(st.binary(min_size=len(seed), max_size=len(seed)), holds, settings=config)
    except NoSuchExample:
        return seed
    return "".join(c for c, keep in zip(seed, mask, strict=True) if keep)
