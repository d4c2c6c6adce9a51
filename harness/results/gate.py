"""One judged budget (a gate) and its waiver."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints, model_validator

from harness.results.base import Record


class Waiver(Record):
    reason: Annotated[str, StringConstraints(min_length=1)]


GateState = Literal["pass", "fail", "advisory", "waived"]


class Gate(Record):
    """One judged budget: the value beside its budget. A gate that could not be evaluated says
    so (`evaluated: false`, the reason in `detail`) and counts as not passed."""

    id: str  # "<gate>:<subject>", unique in a report
    gate: (
        str  # agreement, accuracy, latency_p50, latency_p95, throughput, load_time, size, golden, available, runs, ...
    )
    subject: str  # runtime id, size target ("web:tfjs"), "web-app", "suite"
    passed: bool
    evaluated: bool = True
    value: float | None = None
    budget: float | None = None
    unit: str = ""
    detail: str = ""
    required: bool = True  # False: advisory, shown but never fatal
    waived: Waiver | None = None
    # speed gates: the figure's confidence interval [low, high] (null: unbounded), its confidence,
    # the calibration factor the written budget was scaled by; inconclusive: the interval
    # straddled the budget, so the gate is advisory (docs/speed-gates.md)
    interval: list[float | None] | None = None
    confidence: float | None = None
    budget_factor: float | None = None
    inconclusive: bool = False

    @classmethod
    def make(
        cls,
        gate: str,
        subject: str,
        passed: bool,
        *,
        value: float | None = None,
        budget: float | None = None,
        unit: str = "",
        detail: str = "",
        required: bool = True,
        evaluated: bool = True,
        interval: list[float | None] | None = None,
        confidence: float | None = None,
        budget_factor: float | None = None,
        inconclusive: bool = False,
    ) -> Gate:
        """A gate with its id made from its kind and subject ("<gate>:<subject>")."""
        return cls(
            id=f"{gate}:{subject}",
            gate=gate,
            subject=subject,
            passed=passed,
            value=value,
            budget=budget,
            unit=unit,
            detail=detail,
            required=required,
            evaluated=evaluated,
            interval=interval,
            confidence=confidence,
            budget_factor=budget_factor,
            inconclusive=inconclusive,
        )

    @model_validator(mode="after")
    def _consistent(self) -> Gate:
        if self.id != f"{self.gate}:{self.subject}":
            raise ValueError(f"gate id {self.id!r} must be '<gate>:<subject>' ({self.gate}:{self.subject})")
        if not self.evaluated and (self.passed or not self.detail):
            raise ValueError("a gate that was not evaluated has passed false and its reason in detail")
        return self

    @property
    def state(self) -> GateState:
        if self.waived is not None:
            return "waived"
        if self.passed:
            return "pass"
        return "fail" if self.required else "advisory"

    @property
    def blocking(self) -> bool:
        """Required, not passed, not waived: what makes a verdict "fail"."""
        return self.state == "fail"
