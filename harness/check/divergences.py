"""golden/known_divergences.toml: every accepted divergence, declared with its cause.

An entry names the runtimes, the golden case ids (or a regular expression over ids) and
the kind ("tokens" or "score"). The suite expects exactly these: an undeclared divergence
fails, and so does a declared one that no longer happens (so the file stays true).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from harness.core.errors import HarnessError
from harness.core.paths import GOLDEN
from harness.results import Divergence

DIVERGENCES = GOLDEN / "known_divergences.toml"
REQUIRED = ("id", "kind", "runtimes", "cause")


@dataclass(frozen=True)
class DeclaredDivergence:
    """One entry of known_divergences.toml as declared: it may name its cases by a pattern and
    it decides which findings it covers; the report records it as a `results.Divergence`."""

    id: str
    kind: str  # "tokens" or "score"
    runtimes: tuple[str, ...]
    cases: tuple[str, ...]
    case_pattern: str
    input_class: str
    cause: str
    link: str

    def covers(self, kind: str, runtime_id: str, case_id: str) -> bool:
        if kind != self.kind or runtime_id not in self.runtimes:
            return False
        return case_id in self.cases or bool(self.case_pattern and re.fullmatch(self.case_pattern, case_id))

    def record(self) -> Divergence:
        """What a report keeps of the declaration (the pattern stays in the file)."""
        return Divergence(
            id=self.id,
            kind=self.kind,
            runtimes=list(self.runtimes),
            cases=list(self.cases),
            input_class=self.input_class,
            cause=self.cause,
            link=self.link,
        )


def load(path: Path = DIVERGENCES) -> list[DeclaredDivergence]:
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise HarnessError(f"{path}: not valid TOML ({e})") from None
    out = []
    for n, entry in enumerate(data.get("divergence", []), start=1):
        missing = [k for k in REQUIRED if k not in entry]
        if missing:
            raise HarnessError(f"{path}: divergence #{n} lacks {', '.join(missing)}")
        if entry["kind"] not in ("tokens", "score"):
            raise HarnessError(f"{path}: divergence {entry['id']!r}: kind must be 'tokens' or 'score'")
        if not entry.get("cases") and not entry.get("case_pattern"):
            raise HarnessError(f"{path}: divergence {entry['id']!r} names no cases (cases or case_pattern)")
        out.append(
            DeclaredDivergence(
                id=entry["id"],
                kind=entry["kind"],
                runtimes=tuple(entry["runtimes"]),
                cases=tuple(entry.get("cases", ())),
                case_pattern=entry.get("case_pattern", ""),
                input_class=entry.get("input_class", ""),
                cause=entry["cause"],
                link=entry.get("link", ""),
            )
        )
    return out


def declared(
    divergences: list[DeclaredDivergence], *, kind: str, runtime_id: str, case_id: str
) -> DeclaredDivergence | None:
    return next((d for d in divergences if d.covers(kind, runtime_id, case_id)), None)
