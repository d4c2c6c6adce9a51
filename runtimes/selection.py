"""The one answer to "which runtimes, and can they run here": every command and the test suite ask it.

`select("matrix")` is conformance.toml's matrix, `select("phones")` its [phones] list, `select("all")` every registered
runtime, and anything else a comma list of ids (unknown ids are refused with a "did you mean"). Runtimes that
cannot run here are returned beside the runnable ones with their reason, never dropped; with
`strict`, a runtime the user named explicitly that cannot run here is an error instead.
The reference runtime (conformance.toml `[matrix] reference`) is put first when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.core import config
from harness.core.errors import HarnessError
from runtimes import registry
from runtimes.base import Runtime

KEYWORDS = ("all", "matrix", "phones")


@dataclass(frozen=True)
class Missing:
    """Why a runtime cannot run here, and what would make it run."""

    reason: str
    install: str = ""

    def __str__(self) -> str:
        return f"{self.reason}; {self.install}" if self.install else self.reason


@dataclass
class Selection:
    runtimes: list[Runtime]  # runnable here, in the order asked (the reference first when added)
    unavailable: dict[str, Missing] = field(default_factory=dict)
    reference: str = ""
    requested: list[str] = field(default_factory=list)  # the ids asked for, resolved (before the reference was added)

    @property
    def ids(self) -> list[str]:
        return [rt.id for rt in self.runtimes]

    def runtime(self, runtime_id: str) -> Runtime:
        return next(rt for rt in self.runtimes if rt.id == runtime_id)


def requested_ids(text: str) -> list[str]:
    """The ids a selection text names, validated, in order, without duplicates."""
    text = text.strip()
    if text == "all":
        return registry.ids()
    if text == "matrix":
        return [registry.spec(rid).id for rid in config.matrix()]
    if text == "phones":  # conformance.toml [phones]: what phones compute differently (docs/phones.md)
        return [registry.spec(rid).id for rid in config.load().get("phones", {}).get("runtimes", [])]
    wanted = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if not wanted:
        raise HarnessError("no runtime given (expected ids such as keras,tfjs-wasm, 'matrix' or 'all')")
    return [registry.spec(rid).id for rid in wanted]


def select(text: str, *, strict: bool = False, with_reference: bool = False) -> Selection:
    """Runnable runtimes and the unavailable ones with reasons (see the module docstring)."""
    explicit = text.strip() not in KEYWORDS
    ids = requested_ids(text)
    requested = list(ids)
    reference = config.reference()
    if with_reference and reference not in ids:
        ids.insert(0, reference)
    runnable: list[Runtime] = []
    unavailable: dict[str, Missing] = {}
    for rid in ids:
        try:
            rt = registry.get(rid)
            ok = rt.availability()
            missing = None if ok.ok else Missing(ok.reason, ok.install)
        except HarnessError as e:  # an engine module that cannot even be imported
            rt, missing = None, Missing(str(e), "reinstall the harness (make setup)")
        if rt is not None and missing is None:
            runnable.append(rt)
            continue
        assert missing is not None
        if strict and explicit:
            raise HarnessError(f"runtime {rid} cannot run here: {missing}")
        unavailable[rid] = missing
    if with_reference and reference not in [rt.id for rt in runnable]:
        raise HarnessError(f"the reference runtime {reference} cannot run here: {unavailable.get(reference)}")
    return Selection(runnable, unavailable, reference, requested)
