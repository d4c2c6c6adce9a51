"""golden/known_limitations.toml: what an engine cannot do, with its cause and a workaround.

A limitation is a fact about an engine at a version (tensorflowjs 4.22.0 has no Erfc; the
coremltools 9.0 TF2 frontend cannot convert a while loop), not about a model: any model that
hits it fails on those runtimes at that step. Each entry names the runtimes (glob patterns over
runtime ids), the step, the engine package and version, what it lacks, a regular expression over
the failure's message that recognises it, its cause, a workaround where one exists, and
optionally the model traits that predict it before anything is converted (`when`: every trait
must be present; see `harness.data.traits`), so `harness doctor` can skip a conversion that
cannot work.

`runtimes.failures.step` looks every runtime failure up here: one that matches a declared
limitation (and the engine's installed version is the declared one) carries it, and every view
(predict's errors, compare, the report, pytest) shows the limitation's id and cause instead of
a bare error. An entry for another version than the installed one is stale (it applies to
nothing until re-checked); tests/test_limitations.py fails on stale entries, and the zoo test
(tests/test_model_zoo.py, or the engine's own test the entry names) proves each still happens.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from harness.core.errors import HarnessError
from harness.core.paths import GOLDEN
from harness.core.versions import dist_version, npm_version

LIMITATIONS = GOLDEN / "known_limitations.toml"
STEPS = ("export", "load", "tokenize", "run")
REQUIRED = ("id", "runtimes", "step", "engine", "version", "lacks", "match", "cause")
TRAIT_KINDS = ("layer", "activation")
NPM = "npm:"


@dataclass(frozen=True)
class Limitation:
    id: str
    runtimes: tuple[str, ...]  # glob patterns over runtime ids ("tfjs-*")
    step: str  # export, load, tokenize or run
    engine: str  # the package whose version lacks it: a PyPI name, or "npm:<name>"
    version: str  # the version it was measured with
    lacks: str  # the op, kernel or feature, in the engine's terms ("TF op Erfc")
    match: str  # regular expression, searched in the failure's message
    cause: str
    workaround: str = ""
    when: tuple[str, ...] = ()  # model traits that predict it ("activation:gelu")
    link: str = ""

    @property
    def engine_name(self) -> str:
        return self.engine.removeprefix(NPM)

    def installed(self) -> str:
        """The engine's version on this machine ("absent" when it is not installed)."""
        return npm_version(self.engine_name) if self.engine.startswith(NPM) else dist_version(self.engine)

    @property
    def current(self) -> bool:
        """Declared for the installed version (else stale: it applies to nothing)."""
        return self.installed() == self.version

    def covers(self, runtime_id: str) -> bool:
        return any(fnmatch.fnmatchcase(runtime_id, pattern) for pattern in self.runtimes)

    def matches(self, runtime_id: str, step: str, message: str) -> bool:
        return self.current and step == self.step and self.covers(runtime_id) and bool(re.search(self.match, message))

    def predicted_by(self, traits: set[str]) -> bool:
        """The model's traits say it will hit this (only entries with `when` predict anything)."""
        return self.current and bool(self.when) and set(self.when) <= traits

    def summary(self) -> str:
        """One line: the id, what the engine lacks, the cause and the workaround."""
        return describe(
            self.id, f"{self.engine_name} {self.version}", self.lacks, cause=self.cause, workaround=self.workaround
        )

    def record(self) -> dict[str, str]:
        """What a report records of it (harness-report/2 `KnownLimitation`)."""
        return {
            "id": self.id,
            "engine": f"{self.engine_name} {self.version}",
            "lacks": self.lacks,
            "cause": " ".join(self.cause.split()),
            "workaround": " ".join(self.workaround.split()),
            "link": self.link,
        }


def describe(limitation_id: str, engine: str, lacks: str, *, cause: str, workaround: str = "") -> str:
    """The one line every view shows for a limitation (also used by the report's own record)."""
    text = f"known limitation {limitation_id}: {engine} lacks {lacks}. {cause}"
    if workaround:
        text += f" Workaround: {workaround}"
    return " ".join(text.split())


def _strings(value: object, where: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise HarnessError(f"{where}: {key} must be a list of non-empty strings")
    return tuple(value)


def _entry(entry: dict[str, object], where: str) -> Limitation:
    missing = [k for k in REQUIRED if not entry.get(k)]
    if missing:
        raise HarnessError(f"{where} lacks {', '.join(missing)}")
    unknown = sorted(set(entry) - set(Limitation.__dataclass_fields__))
    if unknown:
        raise HarnessError(f"{where}: unknown field(s) {', '.join(unknown)}")
    text = {k: v for k, v in entry.items() if k not in ("runtimes", "when")}
    for key, value in text.items():
        if not isinstance(value, str):
            raise HarnessError(f"{where}: {key} must be a string")
    if entry["step"] not in STEPS:
        raise HarnessError(f"{where}: step must be one of {', '.join(STEPS)}, got {entry['step']!r}")
    try:
        re.compile(str(entry["match"]))
    except re.error as e:
        raise HarnessError(f"{where}: match is not a regular expression ({e})") from None
    when = _strings(entry.get("when", []), where, "when") if "when" in entry else ()
    for trait in when:
        kind, _, name = trait.partition(":")
        if kind not in TRAIT_KINDS or not name:
            raise HarnessError(f"{where}: trait {trait!r} is not <{'|'.join(TRAIT_KINDS)}>:<name>")
    return Limitation(
        runtimes=_strings(entry["runtimes"], where, "runtimes"),
        when=when,
        **text,  # type: ignore[arg-type]
    )


@lru_cache(maxsize=4)
def load(path: Path = LIMITATIONS) -> tuple[Limitation, ...]:
    """Every declared limitation, validated (a malformed entry is an error naming it)."""
    if not path.is_file():
        return ()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise HarnessError(f"{path}: not valid TOML ({e})") from None
    out: list[Limitation] = []
    for n, entry in enumerate(data.get("limitation", []), start=1):
        where = f"{path}: limitation {entry.get('id') or '#' + str(n)}"
        out.append(_entry(entry, where))
    ids = [lim.id for lim in out]
    doubled = sorted({i for i in ids if ids.count(i) > 1})
    if doubled:
        raise HarnessError(f"{path}: limitation id(s) declared twice: {', '.join(doubled)}")
    return tuple(out)


def matching(runtime_id: str, step: str, message: str, *, path: Path = LIMITATIONS) -> Limitation | None:
    """The declared limitation this failure is, if any (the first that matches)."""
    return next((lim for lim in load(path) if lim.matches(runtime_id, step, message)), None)


def predicted(runtime_id: str, traits: set[str], path: Path = LIMITATIONS) -> Limitation | None:
    """The declared limitation a model with `traits` will hit on `runtime_id`, if one says so."""
    return next((lim for lim in load(path) if lim.covers(runtime_id) and lim.predicted_by(traits)), None)
