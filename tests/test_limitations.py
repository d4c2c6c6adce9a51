"""golden/known_limitations.toml: validated like known_divergences.toml, and used by failure isolation.

The file must name real runtimes and the installed engine versions (an entry for another
version is stale: it would hide a failure the new version may no longer have, or explain one
with an old cause). tests/test_model_zoo.py proves each entry still happens on a real model.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from harness.core import limitations
from harness.core.errors import HarnessError
from harness.data import traits
from runtimes import registry
from runtimes.failures import RuntimeFailed, step

ENTRY = """
[[limitation]]
id = "x-erfc"
runtimes = ["tfjs-*"]
step = "export"
engine = "tensorflowjs"
version = "{version}"
lacks = "TF op Erfc"
match = "Unsupported Ops.*Erfc"
when = ["activation:gelu"]
cause = "no Erfc"
workaround = "approximate=True"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "limitations.toml"
    path.write_text(text)
    limitations.load.cache_clear()
    return path


def test_the_declared_limitations_are_valid_and_current() -> None:
    declared = limitations.load()
    assert declared, "golden/known_limitations.toml declares nothing"
    for lim in declared:
        for pattern in lim.runtimes:  # each pattern names at least one registered runtime
            assert any(fnmatch.fnmatchcase(rid, pattern) for rid in registry.ids()), (lim.id, pattern)
        assert lim.current, (
            f"{lim.id}: declared for {lim.engine} {lim.version}, installed {lim.installed()}: re-check it"
        )
        assert "\n" not in lim.summary() and lim.id in lim.summary() and lim.lacks in lim.summary()


def test_matching_needs_runtime_step_message_and_the_installed_version(tmp_path: Path) -> None:
    from harness.core.versions import dist_version

    path = write(tmp_path, ENTRY.format(version=dist_version("tensorflowjs")))
    msg = "tensorflowjs 4.22.0 cannot convert it (Unsupported Ops in the model before optimization: Erfc)"
    assert limitations.matching("tfjs-wasm@u8", "export", msg, path=path).id == "x-erfc"
    assert limitations.matching("coreml-ref", "export", msg, path=path) is None
    assert limitations.matching("tfjs-wasm", "load", msg, path=path) is None
    assert limitations.matching("tfjs-wasm", "export", "Unsupported Ops: Erf", path=path) is None
    assert limitations.predicted("tfjs-cpu", {"activation:gelu", "layer:Dense"}, path).id == "x-erfc"
    assert limitations.predicted("tfjs-cpu", {"activation:relu"}, path) is None
    stale = write(tmp_path, ENTRY.format(version="0.0.1"))
    assert limitations.matching("tfjs-wasm", "export", msg, path=stale) is None, "a stale entry must explain nothing"
    assert limitations.predicted("tfjs-cpu", {"activation:gelu"}, stale) is None
    limitations.load.cache_clear()


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (lambda t: t.replace('step = "export"', 'step = "convert"'), "step must be one of"),
        (lambda t: t.replace('cause = "no Erfc"\n', ""), "lacks cause"),
        (lambda t: t.replace('match = "Unsupported Ops.*Erfc"', 'match = "(unclosed"'), "not a regular expression"),
        (lambda t: t.replace('when = ["activation:gelu"]', 'when = ["gelu"]'), "is not <layer|activation>:<name>"),
        (lambda t: t.replace('runtimes = ["tfjs-*"]', 'runtimes = "tfjs-*"'), "runtimes must be a list"),
        (lambda t: t + t, "declared twice: x-erfc"),
        (lambda t: t.replace('lacks = "TF op Erfc"', 'lacks = "TF op Erfc"\nseverity = "high"'), "unknown field"),
    ],
)
def test_a_malformed_entry_is_an_error_naming_it(tmp_path: Path, edit, error: str) -> None:
    path = write(tmp_path, edit(ENTRY.format(version="4.22.0")))
    with pytest.raises(HarnessError, match=error):
        limitations.load(path)
    limitations.load.cache_clear()


def test_a_failure_that_is_a_declared_limitation_carries_it() -> None:
    """runtimes.failures.step looks every failure up: the line shows the limitation, the
    message keeps the engine's words."""
    message = "tensorflowjs 4.22.0 cannot convert it (Unsupported Ops in the model before optimization: Erfc)"
    with pytest.raises(RuntimeFailed) as info, step("tfjs-webgl@f16", "export"):
        raise HarnessError(message)
    failure = info.value.failure
    assert failure.limitation is not None and failure.limitation.id == "tfjs-erfc"
    assert failure.message == message
    assert failure.line().startswith("export: known limitation tfjs-erfc: tensorflowjs 4.22.0 lacks TF op Erfc.")
    assert "Workaround: gelu with approximate=True" in failure.line() and "\n" not in failure.line()
    with pytest.raises(RuntimeFailed) as info, step("tfjs-webgl", "run"):
        raise HarnessError("Kernel 'Foo' not registered for backend 'webgl'")
    assert info.value.failure.limitation is None
    assert info.value.failure.line() == "run: Kernel 'Foo' not registered for backend 'webgl'"


def test_model_traits_come_from_the_file_without_keras(tmp_path: Path) -> None:
    import json
    import zipfile

    config = {
        "class_name": "Functional",
        "config": {"name": "m", "trainable": True, "layers": [
            {"class_name": "Dense", "config": {"name": "d", "trainable": True, "activation": "gelu"}},
            {"class_name": "Bidirectional", "config": {"name": "b", "trainable": True, "layer": {
                "class_name": "GRU", "config": {"name": "g", "trainable": True, "activation": "tanh",
                                                "recurrent_activation": "sigmoid"}}}},
            {"class_name": "Dense", "config": {"name": "e", "trainable": True, "activation": {
                "module": None, "class_name": "function", "config": "zoo>gelu_tanh"}}},
        ]},
    }  # fmt: skip
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", json.dumps(config))
    assert traits.of_file(path) == {
        "layer:Functional", "layer:Dense", "layer:Bidirectional", "layer:GRU",
        "activation:gelu", "activation:tanh", "activation:sigmoid", "activation:gelu_tanh",
    }  # fmt: skip
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    with pytest.raises(HarnessError, match="not a .keras model archive"):
        traits.of_file(tmp_path / "bad.keras")
