"""harness-report/2: the committed JSON Schema is what the models generate, a report the harness
writes validates against it, and anything else is refused with its first problem in one line."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from typing import Any

import pytest
from report_sample import synthetic_report, with_engines

from harness.core.errors import HarnessError
from harness.core.paths import REPO
from harness.report import schema
from harness.results import Gate, Report


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return json.loads(schema.dumps(with_engines(synthetic_report())))


def refused(data: Any) -> str:
    with pytest.raises(HarnessError) as e:
        schema.validate(data, "r.json")
    message = str(e.value)
    assert "\n" not in message and len(message) < 300, message
    return message


def test_committed_schema_is_current():
    """Regenerate with: python -m harness.report.schema --write"""
    assert schema.SCHEMA_FILE.read_text(encoding="utf-8") == schema.render(), (
        "harness-report-2.schema.json is stale: run python -m harness.report.schema --write"
    )


def test_schema_check_command_says_current():
    done = subprocess.run([sys.executable, "-m", "harness.report.schema"], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0 and "is current" in done.stdout, done.stdout + done.stderr


def test_schema_is_draft_2020_12_and_strict():
    from jsonschema import Draft202012Validator

    committed = json.loads(schema.SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(committed)
    assert committed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert committed["additionalProperties"] is False and {"schema", "verdict"} <= set(committed["required"])
    assert committed["properties"]["schema"]["const"] == "harness-report/2"


def test_written_report_validates_and_round_trips(data):
    report = schema.validate(data, "r.json")
    assert isinstance(report, Report) and report.verdict == "fail"
    assert json.loads(schema.dumps(report)) == data
    assert report.runtimes["webkit:tfjs-wasm"].error.step == "load"


def test_dumps_is_strict_json_even_with_nan_and_a_lone_surrogate():
    report = synthetic_report()
    report.runtimes["tfjs-webgl"].scores[:2] = [math.nan, math.inf]
    text = schema.dumps(report)
    text.encode("utf-8")  # the lone surrogate of the hostile review is escaped, not raw
    assert "NaN" not in text and "Infinity" not in text and "\\ud83d" in text
    back = schema.validate(json.loads(text))
    assert back.runtimes["tfjs-webgl"].scores[:2] == [None, None]
    assert back.worst_cases[0].text == report.worst_cases[0].text


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(runtimes=list(d["runtimes"].values())), "r.json: $.runtimes: expected an object, got an array"),
        (lambda d: d.update(bundle_hash=None), "r.json: $.bundle_hash: expected a string, got null"),
        (lambda d: d.update(bundle_hash="abc"), "r.json: $.bundle_hash: expected a string matching ^[0-9a-f]{64}$"),
        (lambda d: d["environment"].pop("hostname"), "r.json: $.environment: missing required field 'hostname'"),
        (lambda d: d["runtimes"]["keras"].update(precision="float32"), "$.runtimes.keras: unexpected field 'precision'"),
        (lambda d: d["runtimes"]["keras"].update(accuracy="high"), "$.runtimes.keras.accuracy: expected a number or null, got a string"),
        (lambda d: d["runtimes"]["tfjs-cpu"]["spec"].update(platform="windows"),
         """$.runtimes['tfjs-cpu'].spec.platform: expected one of "desktop", "web", "ios", "android", got "windows\""""),
        (lambda d: d["gates"][0].update(id="x:y"), "$.gates[0]: gate id 'x:y' must be '<gate>:<subject>'"),
        (lambda d: d.update(verdict="pass"), "$: verdict 'pass' does not follow from the status and gates (they give 'fail')"),
        (lambda d: d.update(gates=[g for g in d["gates"] if g["gate"] != "runs"]),
         "runtime 'webkit:tfjs-wasm' has status 'error' but no failing 'runs:webkit:tfjs-wasm' gate"),
        (lambda d: d["runtimes"]["webkit:tfjs-wasm"].update(scores=[0.5]), "status 'error' has no scores"),
        (lambda d: d["runtimes"]["webkit:tfjs-wasm"]["error"].update(message="two\nlines"), "error.message: expected a string matching"),
        (lambda d: d["runtimes"]["tfjs-cpu"]["spec"].update(browser=None), "browser is required for a web runtime"),
        (lambda d: d["gates"].append(copy.deepcopy(d["gates"][0])), "gate 'agreement:keras' appears twice"),
    ],
)  # fmt: skip
def test_invalid_report_is_refused_with_the_first_error_in_one_line(data, change, expected):
    broken = copy.deepcopy(data)
    change(broken)
    assert expected in refused(broken)


def test_older_and_foreign_files_get_a_clear_message(data):
    v1 = {**data, "schema": "harness-report/1"}
    assert refused(v1) == (
        "r.json: schema harness-report/1: an older harness wrote it; re-run harness report (this harness reads harness-report/2)"
    )
    assert refused([data]).startswith(
        'r.json: not a report: expected an object with "schema": "harness-report/2", got an array'
    )
    assert (
        refused({k: v for k, v in data.items() if k != "schema"})
        == "r.json: not a harness-report/2 report (no schema field)"
    )
    assert (
        refused({"schema": "harness-signoff/1"}) == 'r.json: not a harness-report/2 report (schema "harness-signoff/1")'
    )


def test_read_names_the_file(tmp_path, data):
    path = tmp_path / "report.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(HarnessError, match=r"report.json: not valid JSON \(.* at line 1 column 2\)"):
        schema.read(path)
    path.write_text(json.dumps(data), encoding="utf-8")
    assert schema.read(path).bundle_hash == data["bundle_hash"]
    with pytest.raises(HarnessError, match="no such report"):
        schema.read(tmp_path / "missing.json")


def test_verdict_rules():
    report = synthetic_report()
    assert report.decide_verdict() == "fail" and {g.id for g in report.blocking_gates()} == {
        "agreement:tfjs-wasm@u8", "latency_p50:tfjs-webgl", "size:web:tfjs-u8", "available:coreml-native@fp32",
    }  # fmt: skip
    # nothing the user asked for ran (only the reference, which runs anyway): incomplete, never pass
    only_native = report.model_copy(update={"requested": ["coreml-native"], "gates": [], "verdict": "incomplete"})
    assert Report.model_validate(only_native.model_dump()).decide_verdict() == "incomplete"
    # a gate that could not be evaluated counts as not passed
    unevaluated = Gate.make("golden", "tfjs-cpu", False, detail="no golden file for this bundle", evaluated=False)
    assert unevaluated.blocking and unevaluated.state == "fail"
    with pytest.raises(ValueError, match="not evaluated"):
        Gate.make("golden", "tfjs-cpu", True, evaluated=False)


def test_a_report_built_without_verdict_gets_the_rules_verdict(data):
    fields = {k: v for k, v in data.items() if k != "verdict"}
    assert Report.model_validate(fields).verdict == "fail"
    assert "missing required field 'verdict'" in refused(fields)  # a file must say it (and it is checked)


def test_runtime_verdicts_and_groups():
    report = with_engines(synthetic_report())
    verdicts = {rid: report.runtime_verdict(rid) for rid in report.runtime_ids()}
    assert verdicts["keras"] == "pass" and verdicts["tfjs-wasm@u8"] == "fail"
    assert verdicts["webkit:tfjs-wasm"] == "error" and verdicts["coreml-native"] == "waived"
    assert verdicts["firefox:tfjs-webgl"] == "n/a"
    groups = [(g.label, g.verdict) for g in report.groups()]
    assert groups == [
        ("Desktop", "pass"),
        ("Web · Chrome engine (Chromium)", "fail"),
        ("Web · Firefox engine (Gecko)", "pass"),
        ("Web · Safari engine (WebKit)", "error"),
        ("iOS", "fail"),
    ]
    assert report.size_gate_for("tfjs-wasm@u8").id == "size:web:tfjs-u8" and report.size_gate_for("keras") is None
