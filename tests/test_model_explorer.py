"""`compare --layers --model-explorer DIR`: node-data files Model Explorer reads, one per runtime
(harness/check/model_explorer.py), checked against the format of Model Explorer's
node_data_builder (tests/fixtures/model_explorer_node_data.schema.json says where it comes from)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from test_isolate import TEXT, two_dense_bundle  # noqa: F401  (the fixture)

from harness import cli
from harness.check import model_explorer
from harness.check.layers import trace
from harness.run.engines import Engines
from runtimes import registry
from runtimes.testing import PERTURBED_DENSE_ID, perturbed_dense_spec

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "model_explorer_node_data.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)


def test_the_schema_refuses_what_model_explorer_would_not_read():
    assert not list(
        VALIDATOR.iter_errors({"results": {"a": {"value": 1.5}}, "thresholds": [{"value": 1, "bgColor": "red"}]})
    )
    bad_files = [
        {"results": {"a": {"value": "inf"}}},
        {"results": {"a": 1.0}},
        {"nodes": {}},
        {"results": {}, "thresholds": [{"value": 1}]},
    ]
    for bad in bad_files:
        assert list(VALIDATOR.iter_errors(bad)), bad


def test_one_valid_file_per_runtime_keyed_by_its_own_tensors(two_dense_bundle, tmp_path):  # noqa: F811
    from harness.core import bundle

    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(registry.SPECS, PERTURBED_DENSE_ID, perturbed_dense_spec("hidden", delta=0.5))
        ids = ["keras", PERTURBED_DENSE_ID]
        with Engines(bundle.load(two_dense_bundle), [registry.get(r) for r in ids], ["py"]) as engines:
            found = trace(engines, TEXT)
    written = model_explorer.write(found, tmp_path / "me")
    assert [p.name for p in written] == [f"{PERTURBED_DENSE_ID}.json"]
    data = json.loads(written[0].read_text())
    assert not list(VALIDATOR.iter_errors(data)), list(VALIDATOR.iter_errors(data))[:1]
    rows = {r.probe: r for r in found.runtimes[0].rows}
    assert set(data["results"]) == {r.node for r in rows.values() if r.node is not None}
    assert data["results"]["embedding"]["value"] == model_explorer.CAP_DB  # identical: capped, a number
    assert data["results"]["hidden:pre"]["value"] == pytest.approx(rows["hidden:pre"].snr_db, abs=1e-3)
    assert data["results"]["hidden:pre"]["value"] < 60  # the perturbed layer falls out of the green band


@pytest.mark.nightly  # the ML Program through the CLI: what `make test` proves in-process, on coreml-ref
@pytest.mark.coreml
def test_cli_writes_coreml_ref_node_data_keyed_by_mil_variables(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(
            ["compare", "--layers", "--model-explorer", str(tmp_path), "--runtimes", "keras,coreml-ref", TEXT]
        )
    assert rc == 0, err.getvalue()
    data = json.loads((tmp_path / "coreml-ref.json").read_text())
    assert not list(VALIDATOR.iter_errors(data))
    assert "sentiment_cnn_1_conv_1_BiasAdd_cast_fp16" in data["results"] and len(data["results"]) >= 5
    assert all(20 < r["value"] < model_explorer.CAP_DB for r in data["results"].values())  # fp16: off, but little
