"""The machine a run used, the bundle's training record and the case counts."""

from __future__ import annotations

from harness.results.base import Browser, Record


class SplitMetrics(Record):
    """One split of the bundle's own training record (metrics.json)."""

    accuracy: float
    loss: float | None = None
    n: int


class Environment(Record):
    """The machine a run used; a merged report lists one per machine."""

    hostname: str
    platform: str  # platform.platform(): "Linux-6.1.0-28-amd64-x86_64-with-glibc2.36"
    python: str
    machine: str  # "x86_64", "arm64"
    cpu_count: int | None = None
    cpu_model: str = ""
    memory_gb: float | None = None
    tool_versions: dict[str, str] = {}
    browsers: dict[Browser, str] = {}  # engine -> the version it reported ("Chromium 156.0.8078.114")

    @property
    def system(self) -> str:
        return self.platform.split("-")[0]

    @property
    def fingerprint(self) -> str:
        """Which machine this is, for comparing speed with its own history only: the host and
        what sets its speed (CPU model and count, memory, architecture)."""
        import hashlib

        key = "|".join(str(v) for v in (self.hostname, self.machine, self.cpu_model, self.cpu_count, self.memory_gb))
        return hashlib.sha256(key.encode()).hexdigest()[:16]


class CaseCounts(Record):
    held_out: int = 0
    golden: int | None = None
