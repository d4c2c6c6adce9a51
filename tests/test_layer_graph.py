"""report.html draws the model's layer graph per runtime, coloured by per-layer SNR, self-contained,
and lists the scale-free numbers per tensor (harness/report/layer_graph.py, records.html.j2)."""

from __future__ import annotations

import re

from report_sample import synthetic_report
from test_report_views import EXTERNAL, revalidated, section

from harness.report import html, layer_graph
from harness.results import LayerDiff


def layers() -> list[LayerDiff]:
    def row(name: str, diff: float | None, snr: float | None, inbound: list[str] | None) -> LayerDiff:
        cosine = None if snr is None else 0.999
        hist = [1, 0, 0, 0, 0, 0, 0, 0, 2, 0]
        return LayerDiff(
            layer=name, max_abs_diff=diff, snr_db=snr, cosine=cosine, min_atol=diff, histogram=hist, inbound=inbound
        )

    return [
        row("embedding", 1e-3, 38.6, ["token_ids"]),
        row("conv (before relu)", 3e-3, 46.6, None),  # a pre-activation tensor: not a node of the graph
        row("conv", None, None, ["embedding"]),
        row("pool", 2e-3, 56.2, ["conv"]),
        row("dropout", 0.0, None, ["pool"]),
        row("score", 4e-5, 87.4, ["dropout", "embedding"]),  # a skip edge, drawn around the side
    ]


def test_graph_colours_each_layer_by_its_snr_band():
    by = {r.layer: layer_graph.colour(r) for r in layers()}
    assert by["embedding"] == "#e3b341"  # 20-40 dB
    assert by["pool"] == "#a2c94f" and by["score"] == "#2da44e"
    assert by["dropout"] == layer_graph.IDENTICAL and by["conv"] == layer_graph.NOT_COMPARED


def test_report_draws_the_graph_self_contained_and_the_numbers_table():
    report = synthetic_report()
    worst = [report.worst_cases[0].model_copy(update={"layers": layers()}), *report.worst_cases[1:]]
    page = html.render(revalidated(report, worst_cases=worst), [])
    part = section(page, "worst")
    assert "coloured by each runtime" in part and "SNR per layer" in part
    graph = part[part.index('<svg role="img" width') :]
    graph = graph[: graph.index("</svg>")]
    assert graph.count("<rect") == 5 + 6  # five layer nodes (the pre-activation row is not one) + the legend
    assert "<title>embedding: SNR 38.6 dB, cosine 0.999000, max |diff| 0.001</title>" in graph
    assert "<path d=" in graph  # score's skip edge from embedding
    assert "http" not in graph and not EXTERNAL.findall(graph) and "<script" not in graph
    assert "<td>38.6</td><td>0.999000</td>" in part and "<code>1 0 0 0 0 0 0 0 2 0</code>" in part
    assert re.search(r"<td>dropout</td><td>0</td><td>identical</td>", part)
