"""`tfjs-cpu`, `tfjs-wasm`, `tfjs-webgl` (and `@f16`, `@u8`): a TF.js graph model in real Chromium;
`tfjs-layers-*`: a TF.js layers model (a Keras 2 app's format), loaded with tf.loadLayersModel.

Each session is one tab with one backend (TF.js's backend is global per page), loading the
exported artifact through the harness's loopback server. A batch is one page call.

The page runs the model with `execute()` unless the graph needs `executeAsync()`, and the
model says which: tfjs-converter 4.22's GraphExecutor refuses `execute()` for a graph with an
op of its control-flow, dynamic-shape or hash-table sets (dist/tf-converter.node.js,
CONTROL_FLOW_OPS / DYNAMIC_SHAPE_OPS / HASH_TABLE_OPS), so model.json's nodes and its library
functions are scanned for those ops here (GraphModel has no public flag for it). The choice and
the ops that forced it are in the session info, hence in the report row.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.core.bundle import positive_scores
from harness.core.errors import HarnessError
from harness.core.versions import npm_version
from runtimes.base import Availability, RunResult, Runtime, Session
from runtimes.browser import host as browser
from runtimes.browser.driver import Tab
from runtimes.browser.xvfb import available as xvfb_available
from runtimes.tensors import CannotExpose, GraphNode, TensorGraph

CHUNK = 512  # rows per predict call inside the page: bounds page memory, not timing
# tfjs-converter 4.22, dist/tf-converter.node.js: the ops for which execute() throws
CONTROL_FLOW_OPS = frozenset(
    {"Switch", "Merge", "Enter", "Exit", "NextIteration", "StatelessIf", "StatelessWhile", "if", "While"}
)
DYNAMIC_SHAPE_OPS = frozenset({"NonMaxSuppressionV2", "NonMaxSuppressionV3", "NonMaxSuppressionV5", "Where"})
HASH_TABLE_OPS = frozenset(
    {
        "HashTable",
        "HashTableV2",
        "LookupTableImport",
        "LookupTableImportV2",
        "LookupTableFind",
        "LookupTableFindV2",
        "LookupTableSize",
        "LookupTableSizeV2",
    }
)
ASYNC_OPS = CONTROL_FLOW_OPS | DYNAMIC_SHAPE_OPS | HASH_TABLE_OPS


def graph_ops(model_json: dict[str, Any]) -> set[str]:
    """Every op of a graph model: its nodes and the nodes of its library functions (control flow v2)."""
    topology = model_json.get("modelTopology", {})
    ops = {n.get("op", "") for n in topology.get("node", [])}
    for function in topology.get("library", {}).get("function", []):
        ops |= {n.get("op", "") for n in function.get("nodeDef", [])}
    return ops


def execution(model_json: dict[str, Any]) -> dict[str, Any]:
    """How TF.js must run this graph: {"mode": "execute" | "executeAsync", "async_ops": [...]}.
    A graph with none of those ops anywhere is static (TF.js checks only the nodes between the
    inputs and outputs, so this errs towards executeAsync, which runs any graph)."""
    found = sorted(graph_ops(model_json) & ASYNC_OPS)
    return {"mode": "executeAsync" if found else "execute", "async_ops": found}


def read_execution(model_dir: Path) -> dict[str, Any]:
    """How the page runs the model in `model_dir`: a layers model (tf.loadLayersModel, predict)
    whatever it holds, a graph model as `execution` says."""
    model_json = json.loads((Path(model_dir) / "model.json").read_text(encoding="utf-8"))
    if model_json.get("format") == "layers-model":
        return {"mode": "layers", "async_ops": []}
    return execution(model_json)


class TfjsSession(Session):
    def __init__(self, page: Tab, length: int, vocab_size: int, *, positive_index: int | None) -> None:
        super().__init__(length, vocab_size)
        self.page = page
        self._positive_index = positive_index

    def _run(self, ids: np.ndarray) -> RunResult:
        out = self.page.call(
            "([ids, n, chunk]) => harness.run(ids, n, chunk)", [ids.reshape(-1).tolist(), int(len(ids)), CHUNK]
        )
        rows = np.asarray(out["rows"], dtype=np.float64)
        return RunResult(positive_scores(rows, self._positive_index), out["ms"] / 1000.0)

    def _latency_ms(self, ids: np.ndarray, repeats: int, warmup: int) -> list[float]:
        return list(
            self.page.call("([row, r, w]) => harness.latency(row, r, w)", [ids.reshape(-1).tolist(), repeats, warmup])
        )

    model_json: Path | None = None  # the artifact's model.json: where `tensor_graph` reads the nodes

    def tensor_graph(self) -> TensorGraph:
        if self.model_json is None:
            raise CannotExpose("the session has no model.json to read its graph from")
        return TensorGraph(nodes=graph_nodes(json.loads(self.model_json.read_text(encoding="utf-8"))), separator="/")

    def intermediates(self, ids: np.ndarray, names: Sequence[str]) -> dict[str, np.ndarray]:
        ids = self.check_ids(ids)
        out = self.page.call(
            "([ids, n, names]) => harness.intermediates(ids, n, names)",
            [ids.reshape(-1).tolist(), int(len(ids)), list(names)],
        )
        kinds = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
        return {
            n: np.asarray(t["values"], dtype=kinds.get(t["dtype"], np.float64)).reshape(t["shape"])
            for n, t in out.items()
        }

    def replay(self, ids: np.ndarray, feeds: Mapping[str, np.ndarray], names: Sequence[str]) -> dict[str, np.ndarray]:
        """TF.js's graph executor takes any node as an input: `model.execute({node: tensor}, names)`
        computes `names` from the fed nodes (and the ids for what they do not cut off)."""
        ids = self.check_ids(ids)
        fed = {
            n: {"shape": list(v.shape), "values": np.asarray(v, np.float32).reshape(-1).tolist()}
            for n, v in feeds.items()
        }
        out = self.page.call(
            "([ids, n, feeds, names]) => harness.replay(ids, n, feeds, names)",
            [ids.reshape(-1).tolist(), int(len(ids)), fed, list(names)],
        )
        return {n: np.asarray(t["values"], dtype=np.float32).reshape(t["shape"]) for n, t in out.items()}

    def close(self) -> None:
        self.page.close()


def graph_nodes(model_json: dict[str, Any]) -> tuple[GraphNode, ...]:
    """The graph model's nodes in file order (the converter writes them topologically), constants
    and placeholders left out; `fused` lists what grappler fused into a node (`_FusedConv2D`'s
    BiasAdd, Relu). Nodes inside library functions (control flow v2) cannot be fetched: not listed."""
    nodes = model_json.get("modelTopology", {}).get("node", [])
    skip = {n["name"] for n in nodes if n.get("op") in ("Const", "Placeholder")}
    out = []
    for n in nodes:
        if n["name"] in skip:
            continue
        fused = n.get("attr", {}).get("fused_ops", {}).get("list", {}).get("s", [])
        inputs = tuple(
            i.split(":")[0] for i in n.get("input", []) if not i.startswith("^") and i.split(":")[0] not in skip
        )
        out.append(GraphNode(n["name"], n.get("op", ""), inputs, tuple(base64.b64decode(f).decode() for f in fused)))
    return tuple(out)


class TfjsRuntime(Runtime):
    def availability(self) -> Availability:
        engine = self.spec.browser or browser.DEFAULT_ENGINE
        ok = browser.availability(engine)
        if ok.ok and engine == "firefox" and self.spec.backend in ("webgl", "webgl16") and not xvfb_available():
            return Availability(
                False,
                "headless Firefox has no WebGL (the harness runs it headful on its own Xvfb)",
                "apt-get install -y xvfb (as root)",
            )
        return ok

    def context(self) -> str:
        return f"TF.js {npm_version('@tensorflow/tfjs')}, {self.spec.browser or browser.DEFAULT_ENGINE}"

    def open(self, bundle: Any, artifact: Any | None) -> Session:
        if artifact is None:
            raise HarnessError(f"{self.id} needs a TF.js artifact")
        host = browser.BrowserHost.shared()
        started = time.perf_counter()
        prefix = f"/artifacts/{artifact.target}-{artifact.manifest['cache_key']}/"
        host.server.mount(prefix, artifact.path)
        engine = self.spec.browser or browser.DEFAULT_ENGINE
        page = host.open_page("/page/tfjs.html", "window.harness && window.harness.ready", engine)
        sig = bundle.signature()
        run = read_execution(artifact.path)
        try:
            facts = page.call(
                "([url, backend, n, mode]) => harness.load(url, backend, n, mode)",
                [host.server.url(prefix + "model.json"), self.spec.backend, sig.length, run["mode"]],
            )
        except BaseException:  # the tab would otherwise stay open, its model half loaded
            page.close()
            raise
        session = TfjsSession(page, sig.length, sig.vocab_size, positive_index=sig.positive_index)
        session.model_json = Path(artifact.path) / "model.json"
        session.load_seconds = time.perf_counter() - started
        rewrites = [r["rewrite"] for r in artifact.manifest.get("graph_rewrites", [])]
        session.info = {
            **host.driver(engine).facts,
            **facts,
            "artifact": artifact.target,
            "execution": run["mode"],
            "async_ops": run["async_ops"],
            "graph_rewrites": rewrites,
        }
        if "weights_note" in artifact.manifest:  # which weights the export left float32, and why (the row says it)
            session.info["weights"] = artifact.manifest["weights_note"]
        if "label" in self.spec.options:  # what the row stands for, when it is not plainly the engine itself
            session.info["runs_as"] = self.spec.options["label"]
        return session
