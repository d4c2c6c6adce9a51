"""Sign-off from evidence, not claims (issue 16): signed reports, evidence that must add up,
the forged `--with` report refused, a genuine signed one accepted.

Key pairs are made on the fly with ssh-keygen; HARNESS_ALLOWED_SIGNERS points at a file that
lists only the test's "ci" key, so the committed golden/allowed_signers is not involved. The
genuine report is a real run of keras and coreml-ref@fp32 on the reference bundle, its
hostname changed to "other-host" before it is signed (as a report made on another machine).
"""

from __future__ import annotations

import copy
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from harness import cli
from harness.core.errors import HarnessError
from harness.release import evidence, merge, signing
from harness.report import schema
from harness.results import Report
from runtimes import registry

GENUINE_RUNTIMES = "keras,coreml-ref@fp32"
OTHER = "other-host"


def keypair(folder: Path, name: str) -> tuple[Path, str]:
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@test", "-f", str(key)], check=True)
    return key, (folder / f"{name}.pub").read_text().split()[:2]  # type: ignore[return-value]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    ci, ci_pub = keypair(folder, "ci")
    intruder, _ = keypair(folder, "intruder")
    signers = folder / "allowed_signers"
    signers.write_text(f'ci@test namespaces="harness-report" {" ".join(ci_pub)}\n')
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(signing.SIGNERS_ENV, str(signers))
        mp.delenv(signing.KEY_ENV, raising=False)
        yield {"ci": ci, "intruder": intruder, "signers": signers}


@pytest.fixture(scope="module")
def measured(reference_bundle: Any) -> dict[str, Any]:
    """A real report's JSON data (keras and coreml-ref@fp32, golden cases, sizes), unsigned."""
    from harness.report import build

    rep = build.run(reference_bundle, build.Options(runtimes=GENUINE_RUNTIMES, latency=False, webapp=False))
    assert rep.status == "complete" and rep.evidence is not None and rep.evidence.golden_scores
    data = schema.to_json(rep)
    here = data["environment"]["hostname"]
    data["environment"]["hostname"] = OTHER
    data["machines"] = [data["environment"]]
    for row in data["runtimes"].values():
        assert row["machine"] == here
        row["machine"] = OTHER
    return data


def write(path: Path, data: dict[str, Any], key: Path | None = None) -> Path:
    """A report file as `harness report` writes it, signed with `key` when given."""
    rep = schema.validate({k: v for k, v in data.items() if k != "verdict"} | {"verdict": _verdict(data)}, "test")
    if key is not None:
        rep = signing.signed(rep, str(key))
    path.write_text(schema.dumps(rep), encoding="utf-8")
    return path


def _verdict(data: dict[str, Any]) -> str:
    body = {k: v for k, v in data.items() if k != "verdict"}
    return Report.model_validate(body).verdict


@pytest.fixture()
def genuine(tmp_path: Path, measured: dict[str, Any], keys: dict[str, Path]) -> Path:
    return write(tmp_path / "genuine.json", measured, keys["ci"])


# ---------------------------------------------------------------------------------------
# signatures
# ---------------------------------------------------------------------------------------


def test_canonical_json_is_sorted_compact_utf8_and_leaves_out_the_signature() -> None:
    data = {"b": [1, 0.5], "a": "é \ud83d", "signature": {"value": "x"}}
    assert signing.canonical(data) == '{"a":"é \\ud83d","b":[1,0.5]}'.encode()


def test_a_signed_report_verifies_and_any_edit_breaks_it(genuine: Path, keys: dict[str, Path]) -> None:
    data = json.loads(genuine.read_text())
    assert data["signature"]["scheme"] == "ssh" and data["signature"]["key_fingerprint"].startswith("SHA256:")
    found = signing.verify(data, genuine)
    assert found.principal == "ci@test" and found.key_fingerprint == data["signature"]["key_fingerprint"]
    edited = copy.deepcopy(data)
    edited["runtimes"]["coreml-ref@fp32"]["scores"][0] += 1e-7
    with pytest.raises(signing.BadSignature, match="edited after it was signed"):
        signing.verify(edited, "edited.json")
    edited = copy.deepcopy(data)
    edited["environment"]["hostname"] = "macbook"
    with pytest.raises(signing.BadSignature):
        signing.verify(edited, "edited.json")


def test_unsigned_and_unknown_signers_are_refused(
    tmp_path: Path, measured: dict[str, Any], keys: dict[str, Path]
) -> None:
    unsigned = json.loads(write(tmp_path / "u.json", measured).read_text())
    with pytest.raises(signing.Unsigned, match="not signed.*--allow-unsigned"):
        signing.verify(unsigned, "u.json")
    other = json.loads(write(tmp_path / "o.json", measured, keys["intruder"]).read_text())
    with pytest.raises(signing.Unsigned, match=r"signed by a key that is not in .*allowed_signers \(SHA256:"):
        signing.verify(other, "o.json")


def test_report_sign_refuses_a_missing_key_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    assert (
        cli.main(["report", "--runtimes", "keras", "--sign", str(tmp_path / "nokey"), "--out", str(tmp_path / "r")])
        == 2
    )
    assert "no such signing key" in capsys.readouterr().err and time.monotonic() - started < 10
    assert not (tmp_path / "r").exists()


# ---------------------------------------------------------------------------------------
# the forged report of the issue, and a genuine one
# ---------------------------------------------------------------------------------------


def forged(measured: dict[str, Any]) -> dict[str, Any]:
    """The issue's probe: about ten lines, a coreml-ref row renamed coreml-native, hostname
    "macbook", one passing gate, and nothing else."""
    row = copy.deepcopy(measured["runtimes"]["coreml-ref@fp32"])
    row["machine"] = "macbook"
    env = {**measured["environment"], "hostname": "macbook"}
    return {
        "schema": "harness-report/2", "kind": "report", "status": "complete", "started_at": measured["started_at"],
        "bundle_hash": measured["bundle_hash"], "reference": "keras", "requested": ["coreml-native"],
        "environment": env, "runtimes": {"coreml-native": row},
        "gates": [{"id": "runs:coreml-native", "gate": "runs", "subject": "coreml-native", "passed": True}],
    }  # fmt: skip


def test_the_forged_with_report_is_refused_by_default(tmp_path: Path, measured: dict[str, Any], keys: dict[str, Path],
                                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    path = write(tmp_path / "forged.json", forged(measured))
    started = time.monotonic()
    rc = cli.main(
        ["signoff", "--runtimes", "keras", "--with", str(path), "--out", str(tmp_path / "s"), "--profile", "ci"]
    )
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1, err
    assert f"{path}: not signed" in err
    assert time.monotonic() - started < 60 and not (tmp_path / "s" / "signoff.json").exists()  # before anything ran


def test_the_forged_report_is_refused_even_unsigned_allowed(tmp_path: Path, measured: dict[str, Any],
                                                            keys: dict[str, Path], reference_bundle: Any) -> None:  # fmt: skip
    path = write(tmp_path / "forged.json", forged(measured))
    with pytest.raises(
        HarnessError, match=r"forged.json: runtimes.coreml-native.spec.backend: 'ref', but coreml-native's is 'native'"
    ):
        evidence.load_inputs([str(path)], reference_bundle, allow_unsigned=True)
    # Even with the spec made right, Linux cannot have run Apple's Core ML.
    data = forged(measured)
    data["runtimes"]["coreml-native"]["spec"] = registry.spec("coreml-native").describe()
    write(path, data)
    with pytest.raises(
        HarnessError, match=r"runtimes.coreml-native: ran on 'macbook' whose platform is 'Linux.*runs only on Darwin"
    ):
        evidence.load_inputs([str(path)], reference_bundle, allow_unsigned=True)


def test_a_genuine_signed_report_is_accepted(genuine: Path, reference_bundle: Any) -> None:
    ((path, report, record),) = evidence.load_inputs([str(genuine)], reference_bundle, allow_unsigned=False)
    assert record.signed and record.signer == "ci@test" and record.machines == [OTHER]
    assert set(report.runtimes) == {"keras", "coreml-ref@fp32"} and report.verdict == "pass"
    claimed = {g.id: g.passed for g in schema.read(genuine).gates}
    assert {g.id: g.passed for g in report.gates} == claimed  # every gate recomputed here agrees


@pytest.mark.slow
def test_signoff_with_a_genuine_signed_report_and_a_waiver_passes(genuine: Path, tmp_path: Path) -> None:
    """The whole sign-off (report, conformance suite, gates) once: a signed report from another
    machine is merged in, and what cannot run here fails its gate unless waived with a reason."""
    out = tmp_path / "signoff"
    why = "no Mac in this pool; checked on a MacBook by hand"
    rc = cli.main(["signoff", "--runtimes", "keras,coreml-native", "--with", str(genuine), "--profile", "ci",
                   "--waive", "coreml-native", "--reason", why, "--out", str(out)])  # fmt: skip
    record = json.loads((out / "signoff.json").read_text())
    failing = [g["id"] for g in record["gates"] if not g["passed"] and g.get("required", True) and not g.get("waived")]
    assert rc == 0 and record["verdict"] == "pass", failing
    assert record["allow_unsigned"] is False
    assert record["inputs"][0]["signer"] == "ci@test" and record["inputs"][0]["signed"] is True
    rep = schema.read(out / "report.json")
    assert rep.runtimes["coreml-ref@fp32"].machine == OTHER and rep.evidence and rep.evidence.inputs
    gate = next(g for g in record["gates"] if g["id"] == "available:coreml-native")
    assert gate["passed"] is False and gate["waived"] == {"reason": why}
    assert record["waivers"] == [{"id": "coreml-native", "reason": why, "gates": ["available:coreml-native"]}]
    assert record["conformance_suite"]["exit_code"] == 0 and record["conformance_suite"]["tests"] > 0
    # The same record without the waiver fails: every other required gate passed.
    still_failing = [g["id"] for g in record["gates"] if not g["passed"] and g.get("required", True)]
    assert still_failing == ["available:coreml-native"]


def test_allow_unsigned_is_recorded(
    tmp_path: Path, measured: dict[str, Any], keys: dict[str, Path], reference_bundle: Any
) -> None:
    path = write(tmp_path / "unsigned.json", measured)
    with pytest.raises(signing.Unsigned):
        evidence.load_inputs([str(path)], reference_bundle, allow_unsigned=False)
    ((_, _, record),) = evidence.load_inputs([str(path)], reference_bundle, allow_unsigned=True)
    assert record.signed is False and record.signer is None


# ---------------------------------------------------------------------------------------
# evidence that does not add up: the first inconsistency, named in one line
# ---------------------------------------------------------------------------------------


def _edit_golden_score(d: dict[str, Any]) -> None:
    d["evidence"]["golden_scores"]["coreml-ref@fp32"][3] = 1.0 - d["evidence"]["golden_scores"]["coreml-ref@fp32"][3]


def _flip_gate(d: dict[str, Any]) -> None:
    g = next(g for g in d["gates"] if g["id"] == "agreement:coreml-ref@fp32")
    g["passed"], g["detail"] = False, "claimed"


EDITS = {
    "bundle": (lambda d: d.update(bundle_hash="f" * 64), r"bundle_hash: ffffffffffff, but the bundle under test is"),
    "artifact": (lambda d: d["runtimes"]["coreml-ref@fp32"]["artifact"].update(artifact_hash="0" * 64),
                 r"artifact.artifact_hash: 0000000000000000, but this bundle's coreml-fp32 export is"),
    "accuracy": (lambda d: d["runtimes"]["coreml-ref@fp32"].update(accuracy=0.99), r"coreml-ref@fp32.accuracy: 0.99 claimed, its scores give"),
    "golden-score": (_edit_golden_score, r"gates.golden:coreml-ref@fp32: claims pass; recomputed .* local policy: fail"),
    "no-golden-scores": (lambda d: d["evidence"]["golden_scores"].pop("coreml-ref@fp32"), r"no per-case golden scores for coreml-ref@fp32"),
    "tool-versions": (lambda d: d["environment"]["tool_versions"].pop("coremltools"), r"tool_versions: no coremltools version"),
    "gate-flipped": (_flip_gate, r"gates.agreement:coreml-ref@fp32: claims fail; recomputed .*: pass"),
    "gate-missing": (lambda d: d.update(gates=[g for g in d["gates"] if g["id"] != "golden:keras"]), r"gates: no golden:keras gate"),
    "held-out": (lambda d: d["runtimes"]["keras"].update(scores=d["runtimes"]["keras"]["scores"][:-1]), r"keras.scores: 1079 held-out scores"),
}  # fmt: skip


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_evidence_that_does_not_add_up_is_named(edit: str, tmp_path: Path, measured: dict[str, Any],
                                                keys: dict[str, Path], reference_bundle: Any) -> None:  # fmt: skip
    change, message = EDITS[edit]
    data = copy.deepcopy(measured)
    change(data)
    path = write(tmp_path / f"{edit}.json", data, keys["ci"])  # signed by an allowed key: only the evidence is wrong
    with pytest.raises(HarnessError, match=message) as e:
        evidence.load_inputs([str(path)], reference_bundle, allow_unsigned=False)
    assert str(e.value).startswith(f"{path}: ") and "\n" not in str(e.value)


def test_the_same_file_twice_is_refused(genuine: Path, tmp_path: Path, reference_bundle: Any) -> None:
    with pytest.raises(HarnessError, match="the same report as .*given twice"):
        evidence.load_inputs([str(genuine), str(genuine)], reference_bundle, allow_unsigned=False)
    copy_ = tmp_path / "copy.json"
    copy_.write_bytes(genuine.read_bytes())
    with pytest.raises(HarnessError, match="copy.json: the same report as .*genuine.json, given twice"):
        evidence.load_inputs([str(genuine), str(copy_)], reference_bundle, allow_unsigned=False)


def test_two_reports_of_the_same_runtime_that_disagree_are_refused(measured: dict[str, Any], tmp_path: Path) -> None:
    a = schema.validate({**measured, "verdict": _verdict(measured)}, "a")
    other = copy.deepcopy(measured)
    other["environment"]["hostname"] = other["machines"][0]["hostname"] = "second"
    for row in other["runtimes"].values():
        row["machine"] = "second"
    other["runtimes"]["coreml-ref@fp32"]["scores"][5] += 0.01
    b = schema.validate({**other, "verdict": _verdict(other)}, "b")
    with pytest.raises(
        HarnessError, match=r"coreml-ref@fp32 in .*a.json and in .*b.json disagree \(held-out case 5: .*atol 0.0001"
    ):
        merge.merge([(tmp_path / "a.json", a), (tmp_path / "b.json", b)])
    with pytest.raises(HarnessError, match=r"c.json: the same report as .*a.json, given twice"):
        merge.merge([(tmp_path / "a.json", a), (tmp_path / "c.json", a)])


def test_merge_of_signed_reports_verifies_and_records_its_inputs(genuine: Path, tmp_path: Path, measured: dict[str, Any],
                                                                 keys: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    second = copy.deepcopy(measured)
    second["environment"]["hostname"] = second["machines"][0]["hostname"] = "third-host"
    for row in second["runtimes"].values():
        row["machine"] = "third-host"
    other = write(tmp_path / "second.json", second, keys["ci"])
    out = tmp_path / "merged"
    rc = cli.main(["report", "merge", str(genuine), str(other), "--out", str(out), "--sign", str(keys["ci"])])
    assert rc == 0, capsys.readouterr().err
    merged = json.loads((out / "report.json").read_text())
    assert [i["signer"] for i in merged["evidence"]["inputs"]] == ["ci@test", "ci@test"]
    assert signing.verify(merged, out).principal == "ci@test"  # the merge is signed too
    unsigned = write(tmp_path / "unsigned.json", second)
    assert cli.main(["report", "merge", str(genuine), str(unsigned), "--out", str(tmp_path / "m2")]) == 2
    assert "unsigned.json: not signed" in capsys.readouterr().err


def test_merge_out_never_overwrites_an_input(genuine: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "linux"
    folder.mkdir()
    first = folder / "report.json"
    first.write_bytes(genuine.read_bytes())
    before = first.read_bytes()
    assert cli.main(["report", "merge", str(first), str(genuine), "--out", str(folder)]) == 2
    assert "is one of the inputs; refusing to overwrite it" in capsys.readouterr().err
    assert first.read_bytes() == before


# ---------------------------------------------------------------------------------------
# what is committed: the allowed signers and the nightly workflow that signs
# ---------------------------------------------------------------------------------------


def test_the_committed_allowed_signers_are_readable_keys(tmp_path: Path) -> None:
    from harness.core.paths import GOLDEN

    lines = [
        ln for ln in (GOLDEN / "allowed_signers").read_text().splitlines() if ln.strip() and not ln.startswith("#")
    ]
    assert lines
    for n, line in enumerate(lines):
        principal, namespaces, *key = line.split()
        assert namespaces == f'namespaces="{signing.NAMESPACE}"' and "@" in principal
        pub = tmp_path / f"{n}.pub"
        pub.write_text(" ".join(key) + "\n")
        listed = subprocess.run(["ssh-keygen", "-l", "-f", str(pub)], capture_output=True, text=True)
        assert listed.returncode == 0 and "SHA256:" in listed.stdout, listed.stderr


def test_the_nightly_workflow_signs_its_reports_and_merges_checked_ones() -> None:
    import yaml

    from harness.core.paths import REPO

    flow = yaml.safe_load((REPO / ".github/workflows/nightly.yml").read_text())
    steps = {s.get("name", ""): s for job in flow["jobs"].values() for s in job["steps"]}
    for name in ("make report", "Core ML report"):
        assert steps[name]["env"]["HARNESS_SIGNING_KEY"] == "${{ secrets.HARNESS_SIGNING_KEY }}"
    merge_step = next(s for n, s in steps.items() if n.startswith("Merge"))
    assert "--allow-unsigned" not in merge_step["run"] and "report merge" in merge_step["run"]
