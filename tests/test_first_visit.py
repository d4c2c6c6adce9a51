"""What the first visit fetches: the preload links the build writes (largest first), the code a
first prediction needs (index.html's references, followed through static imports), and the cpu
kernels derived from the shipped model.json by Node, as TF.js's custom-bundle tooling does."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from harness.app import first_visit
from harness.app.build import APP
from harness.core.errors import HarnessError

INDEX = """<!doctype html><html><head><title>t</title>
<script type="module" crossorigin src="./assets/index-A.js"></script>
<link rel="modulepreload" crossorigin href="./assets/dist-B.js">
<link rel="stylesheet" crossorigin href="./assets/index-C.css">
</head><body></body></html>"""


def _dist(tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "model").mkdir()
    (dist / "index.html").write_text(INDEX, encoding="utf-8")
    files = {
        "index-A.js": 'import{a}from"./dist-B.js";import("./lazy-wasm-D.js");import{k}from"./Sigmoid-H.js";',
        "dist-B.js": 'import"./runtime-E.js";',
        "runtime-E.js": "",
        "index-C.css": "",
        "lazy-wasm-D.js": 'import"./webgl-only-F.js";',
        "webgl-only-F.js": "",
        "Sigmoid-H.js": "",
    }
    for name, text in files.items():
        (dist / "assets" / name).write_text(text, encoding="utf-8")
    manifest = [{"paths": ["group1-shard1of2.bin", "group1-shard2of2.bin"], "weights": []}]
    (dist / "model" / "model.json").write_text(json.dumps({"weightsManifest": manifest}), encoding="utf-8")
    for name, size in {"group1-shard1of2.bin": 4000, "group1-shard2of2.bin": 900, "tokenizer.txt": 3000}.items():
        (dist / "model" / name).write_bytes(b"x" * size)
    (dist / "model" / "info.json").write_text("{}", encoding="utf-8")
    return dist


def test_preloads_name_every_model_file_the_largest_first(tmp_path):
    dist = _dist(tmp_path)
    names = first_visit.add_preloads(dist / "index.html", dist / "model", ("info.json", "tokenizer.txt"))
    # a seventh request waits for one of six connections: let it be the smallest
    assert names == ["group1-shard1of2.bin", "tokenizer.txt", "group1-shard2of2.bin", "model.json", "info.json"]
    page = (dist / "index.html").read_text(encoding="utf-8")
    head = page[: page.index("</head>")]
    links = [f'<link rel="preload" href="model/{name}" as="fetch" crossorigin="anonymous" />' for name in names]
    assert all(link in head for link in links)
    assert [head.index(link) for link in links] == sorted(head.index(link) for link in links)
    assert 'modulepreload crossorigin href="./assets/Sigmoid' not in page and "lazy-wasm" not in page


def test_preloads_refuse_a_page_without_a_head_or_a_model(tmp_path):
    dist = _dist(tmp_path)
    (dist / "index.html").write_text("<html><body></body></html>", encoding="utf-8")
    with pytest.raises(HarnessError, match="no </head>"):
        first_visit.add_preloads(dist / "index.html", dist / "model", ())
    (dist / "model" / "model.json").write_text("{}", encoding="utf-8")
    with pytest.raises(HarnessError, match="weightsManifest"):
        first_visit.preload_names(dist / "model", ())


def test_first_visit_code_follows_static_imports_only(tmp_path):
    dist = _dist(tmp_path)
    assert first_visit.first_visit_code(dist) == [
        "assets/Sigmoid-H.js",
        "assets/dist-B.js",
        "assets/index-A.js",
        "assets/index-C.css",
        "assets/runtime-E.js",
        "index.html",
    ]


def test_kernel_list_moves_into_the_build_record(tmp_path):
    (tmp_path / first_visit.KERNEL_LIST).write_text('{"ops": ["Relu"], "kernels": ["Relu"]}', encoding="utf-8")
    assert first_visit.take_kernel_list(tmp_path) == {"ops": ["Relu"], "kernels": ["Relu"]}
    assert not (tmp_path / first_visit.KERNEL_LIST).exists()
    assert first_visit.take_kernel_list(tmp_path) is None


def _node_kernels(model_json) -> subprocess.CompletedProcess[str]:
    script = (
        "import('./first_kernels.js').then(async (m) => { const r = await m.firstKernels(process.argv[1]);"
        " m.cpuKernelFiles(r.kernels); process.stdout.write('\\n@@' + JSON.stringify(r)); })"
        ".catch((e) => { process.stderr.write(e.message); process.exit(3); })"
    )
    return subprocess.run(["node", "-e", script, str(model_json)], cwd=APP, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(
    shutil.which("node") is None or not (APP / "node_modules").is_dir(),
    reason="needs node and apps/web/node_modules (make setup)",
)
def test_kernels_come_from_the_shipped_model(reference_bundle, tmp_path):
    from harness import export
    from harness.app.config import variant

    art = export.export(reference_bundle, variant())
    proc = _node_kernels(art.path / "model.json")
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout.split("@@")[-1])
    model_ops = {n["op"] for n in json.loads((art.path / "model.json").read_text())["modelTopology"]["node"]}
    assert set(found["ops"]) == model_ops
    assert {"FusedConv2D", "GatherV2", "_FusedMatMul", "Sigmoid"} <= set(found["kernels"])
    assert "Conv2D" not in found["kernels"] and "MatMul" not in found["kernels"]  # only what the model runs
    # An op the app's graph executor lacks (here one TF.js itself has) is named with the
    # model.json, and the build stops.
    bad = json.loads((art.path / "model.json").read_text())
    bad["modelTopology"]["node"][-1]["op"] = "Einsum"
    shutil.copytree(art.path, tmp_path / "bad")
    (tmp_path / "bad" / "model.json").write_text(json.dumps(bad))
    proc = _node_kernels(tmp_path / "bad" / "model.json")
    assert proc.returncode == 3 and "Einsum" in proc.stderr, proc.stderr
    assert str(tmp_path / "bad" / "model.json") in proc.stderr


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_a_failed_build_keeps_its_error_line_before_a_long_stack() -> None:
    """`harness app build` shows why vite failed (an op the app's executor lacks is named on the
    error's own line, before the stack), not only the stack's last lines."""
    from harness.app import build

    script = "console.error('Error: m/model.json: graph ops ... lacks: Einsum'); for (let i = 0; i < 40; i++) console.error(`    at f${i}`); process.exit(1)"
    with pytest.raises(HarnessError, match="lacks: Einsum") as failed:
        build._run(["node", "-e", script], "vite build")
    assert "at f39" in str(failed.value)
