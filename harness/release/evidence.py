"""Reports from other machines, accepted only as evidence that adds up.

`report merge` and `signoff --with` take report.json files made elsewhere (a Mac for
coreml-native). Each one is, in order:

1. read and validated against the committed schema (harness-report/2);
2. refused if it is the same file (or the same bytes) as another input;
3. signature-checked against the committed allowed signers (signing.py); an unsigned one is
   refused unless --allow-unsigned, which is then recorded with the input;
4. checked against what this machine knows: the bundle hash; for every runtime that ran, its
   spec is the registry's, the machine it ran on has a platform that can run it (coreml-native:
   macOS) and the engine's tool versions, its artifact hash equals this bundle's export of
   that target (exported here to compare), its held-out scores and accuracy match this
   bundle's held-out labels, it has a score for every golden case; then every gate is
   recomputed from those scores with the local policy (recompute.py) and must agree with the
   one the report claims.

The first inconsistency is named in one line (file, field, what was expected). What comes out
is the report with the gates as judged here, and a CheckedInput record of what was checked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from harness.check import divergences, golden
from harness.core import config, json_reader
from harness.core.bundle import Bundle
from harness.core.errors import HarnessError
from harness.data import corpus
from harness.release import signing
from harness.release.recompute import Inconsistent, Local, recompute
from harness.report import schema
from harness.results import CheckedInput, Gate, Report
from runtimes import registry

# Packages whose versions a machine must report to have run a runtime of this family.
ENGINE_TOOLS = {"keras": ("tensorflow", "keras"), "tfjs": ("@tensorflow/tfjs",), "coreml": ("coremltools",)}
ENGINE_TOOLS["coreai"] = ("coreai-core",)  # from .venv-coreai (harness/report/environment.py)
SYSTEM_NAMES = {"Darwin": {"Darwin", "macOS"}, "Linux": {"Linux"}, "Windows": {"Windows"}}
ArtifactHash = Callable[[str], str]


def local_truth(bundle: Bundle) -> Local:
    reviews = corpus.held_out(bundle)
    has_golden = golden.expected_path(bundle).is_file()
    expected = golden.load_current(bundle) if has_golden else None
    cases = [c.id for c in golden.read_cases(golden.TEXTS)] if has_golden else []
    return Local(
        bundle_hash=bundle.hash,
        labels=np.asarray([r.label for r in reviews]),
        expected=expected,
        golden_cases=cases,
        golden_texts_sha256=golden.texts_hash(golden.TEXTS),
        known=divergences.load(),
        threshold=config.threshold(),
    )


def exported_hash(bundle: Bundle) -> ArtifactHash:
    """target -> the artifact hash of this bundle's export of it, exported now if not cached."""
    seen: dict[str, str] = {}

    def of(target: str) -> str:
        if target not in seen:
            from harness import export

            try:
                seen[target] = str(export.export(bundle, target).manifest["artifact_hash"])
            except HarnessError as e:
                raise Inconsistent(f"cannot export {target} here to compare its artifact hash ({e})") from None
        return seen[target]

    return of


def _machine_checks(rid: str, report: Report, ran: bool) -> None:
    row = report.runtimes[rid]
    try:  # registry.spec also knows `<id>#exported` (report --compare-export)
        spec = registry.spec(rid)
    except HarnessError:
        raise Inconsistent(f"runtimes.{rid}: not a runtime this harness knows") from None
    want = spec.describe()
    got = row.spec.model_dump(mode="json")
    for key, value in want.items():
        if (got.get(key) or None) != (value or None):
            raise Inconsistent(f"runtimes.{rid}.spec.{key}: {got.get(key)!r}, but {rid}'s is {value!r}")
    machine = next((m for m in report.all_machines() if m.hostname == row.machine), None)
    if machine is None:
        raise Inconsistent(f"runtimes.{rid}.machine: {row.machine!r} is not one of the report's machines")
    if not ran:
        return
    if spec.hosts and not any(machine.system in SYSTEM_NAMES.get(h, {h}) for h in spec.hosts):
        raise Inconsistent(
            f"runtimes.{rid}: ran on {row.machine!r} whose platform is {machine.platform!r}, "
            f"but {rid} runs only on {', '.join(spec.hosts)}"
        )
    for tool in ENGINE_TOOLS.get(spec.family, ()):
        version = machine.tool_versions.get(tool, "")
        if not version or version == "absent":
            raise Inconsistent(f"machines[{row.machine}].tool_versions: no {tool} version, which {rid} runs on")


def _artifact_checks(rid: str, report: Report, artifact_hash: ArtifactHash) -> None:
    row, spec = report.runtimes[rid], registry.spec(rid)
    if spec.target is None:
        return
    if row.artifact is None or row.artifact.target != spec.target:
        raise Inconsistent(f"runtimes.{rid}.artifact: expected the {spec.target} artifact it ran")
    local = artifact_hash(spec.target)
    if row.artifact.artifact_hash != local:
        raise Inconsistent(
            f"runtimes.{rid}.artifact.artifact_hash: {row.artifact.artifact_hash[:16]}, but this bundle's "
            f"{spec.target} export is {local[:16]}"
        )
    claimed = report.evidence.artifacts.get(spec.target) if report.evidence else None
    if claimed is not None and claimed != local:
        raise Inconsistent(
            f"evidence.artifacts.{spec.target}: {claimed[:16]}, but this bundle's export is {local[:16]}"
        )


def _compare_gates(report: Report, judged: list[Gate]) -> None:
    claimed = {g.id: g for g in report.gates}
    for g in judged:
        mine = claimed.get(g.id)
        if mine is None:
            raise Inconsistent(f"gates: no {g.id} gate, which its results imply")
        if mine.passed != g.passed:
            said, found = ("pass", "fail") if mine.passed else ("fail", "pass")
            raise Inconsistent(
                f"gates.{g.id}: claims {said}; recomputed from its measurements with the local policy: "
                f"{found} ({g.detail})"
            )
    judged_ids = {g.id for g in judged}
    for g in report.gates:
        if g.subject in report.runtimes and g.id not in judged_ids and g.gate != "available":
            raise Inconsistent(f"gates.{g.id}: not a gate its results imply")


def check(source: object, report: Report, *, local: Local, artifact_hash: ArtifactHash) -> Report:
    """`report` with its gates as judged here, or HarnessError naming the first inconsistency."""
    try:
        if report.bundle_hash != local.bundle_hash:
            raise Inconsistent(
                f"bundle_hash: {report.bundle_hash[:12]}, but the bundle under test is {local.bundle_hash[:12]}"
            )
        for rid, row in report.runtimes.items():
            _machine_checks(rid, report, ran=row.status == "ran")
            if row.status == "ran":
                _artifact_checks(rid, report, artifact_hash)
        judged = recompute(report, local)
        _compare_gates(report, judged)
    except Inconsistent as e:
        raise HarnessError(f"{source}: {e}") from None
    mine = {g.id: g for g in judged}
    gates = [mine.get(g.id, g).model_copy(update={"waived": None}) for g in report.gates]
    return report.revised(gates=gates)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_inputs(
    paths: list[str], bundle: Bundle, *, allow_unsigned: bool, artifact_hash: ArtifactHash | None = None
) -> list[tuple[Path, Report, CheckedInput]]:
    """Every report in `paths`, checked (see the module docstring), in order."""
    seen: dict[str, Path] = {}
    checked = []
    loaded = []
    for p in paths:
        path = Path(p)
        report = schema.read(path)
        digest = file_sha256(path)
        key = str(path.resolve())
        for earlier in (seen.get(key), seen.get(digest)):
            if earlier is not None:
                raise HarnessError(f"{path}: the same report as {earlier}, given twice")
        seen[key] = seen[digest] = path
        data = json_reader.read_file(path, "report")
        try:
            verified: signing.Verified | None = signing.verify(data, path)
        except signing.Unsigned:
            if not allow_unsigned:
                raise
            verified = None
        loaded.append((path, report, digest, verified))
    local = local_truth(bundle) if loaded else None
    hashes = artifact_hash or exported_hash(bundle)
    for path, report, digest, verified in loaded:
        assert local is not None
        judged = check(path, report, local=local, artifact_hash=hashes)
        record = CheckedInput(
            file=str(path),
            sha256=digest,
            signed=verified is not None,
            signer=verified.principal if verified else None,
            key_fingerprint=verified.key_fingerprint if verified else None,
            machines=[m.hostname for m in report.all_machines()],
            runtimes=list(report.runtimes),
        )
        checked.append((path, judged, record))
    return checked
