"""`harness bundle --artifact TARGET=PATH`: copy the file a team ships into the bundle.

What is copied is what the app loads: a TF.js model.json with exactly the weight shards its
weightsManifest names, an .mlmodel file or a whole .mlpackage folder, a .tflite file, or any
other file or folder as it is (a format added later, such as .aimodel). Each adopted artifact is
checked against the runtimes that will run it (a .tflite cannot be the `tfjs` artifact; a TF.js
graph model cannot be the `tfjs-layers` one), and what the file itself records about its
converter is read now, once: model.json's `convertedBy` / `generatedBy`, the Core ML model's
coremltools metadata and specification version, the .tflite's minimum runtime version. The
record is core/shipped.py's; the bundle manifest hashes every copied file.
"""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from harness.core import validate
from harness.core.bundle import SHIPPED_DIR
from harness.core.errors import HarnessError
from runtimes import registry

# the kind of file each runtime family runs; a family not listed takes any file (a later format)
FAMILY_KINDS = {"tfjs": ("tfjs",), "tflite": ("tflite",), "coreml": ("mlmodel", "mlpackage")}
LAYERS_TARGETS = frozenset(target for _, target, _ in registry.TFJS_LAYERS_WEIGHTS)
COREMLTOOLS_KEYS = {  # the metadata coremltools writes into every model it saves -> the report's names
    "com.github.apple.coremltools.version": "coremltools",
    "com.github.apple.coremltools.source": "source",
    "com.github.apple.coremltools.source_dialect": "source_dialect",
}


def parse(values: list[str]) -> dict[str, Path]:
    """`TARGET=PATH` options -> {target: path}; a malformed or repeated target is refused."""
    out: dict[str, Path] = {}
    for value in values:
        target, sep, path = value.partition("=")
        if not sep or not target.strip() or not path.strip():
            raise HarnessError(f"--artifact {value!r}: expected TARGET=PATH (e.g. tfjs=web/model/model.json)")
        if target.strip() in out:
            raise HarnessError(f"--artifact: target {target.strip()!r} given twice")
        out[target.strip()] = Path(path.strip())
    return out


def family_of(target: str) -> str | None:
    """The family of the runtimes that run `target` (None: no runtime runs it yet)."""
    return next((s.family for s in registry.SPECS.values() if s.target == target), None)


def kind_of(source: Path) -> tuple[str, Path]:
    """("tfjs" | "tflite" | "mlmodel" | "mlpackage" | "file", the entry point) of a shipped path."""
    if source.is_dir() and (source / "model.json").is_file():
        return "tfjs", source / "model.json"
    if source.is_file() and source.suffix == ".json":
        return "tfjs", source
    if source.suffix in (".tflite", ".mlmodel", ".mlpackage"):
        return source.suffix[1:], source
    return "file", source


def check(target: str, source: Path) -> tuple[str, Path]:
    """(kind, entry point) of `source` if it can be `target`'s artifact; HarnessError naming it if not.
    Cheap (no framework), so `harness bundle` refuses a wrong --artifact before loading the model."""
    if not source.exists():
        raise HarnessError(f"{source}: no such file (--artifact {target}={source})")
    kind, main = kind_of(source)
    family = family_of(target)
    allowed = FAMILY_KINDS.get(family or "", ())
    if allowed and kind not in allowed:
        raise HarnessError(
            f"{source}: a {kind} file cannot be the {target} artifact (its runtimes run {family} models: "
            f"expected {' or '.join(allowed)})"
        )
    return kind, main


def adopt(stage: Path, target: str, source: Path) -> dict[str, Any]:
    """Copy `source` into `stage`/shipped/`target`/ and return its shipped.json record."""
    kind, main = check(target, source)
    out = stage / SHIPPED_DIR / target
    out.mkdir(parents=True)
    if kind == "tfjs":
        return _tfjs(main, out, target)
    if main.is_dir():
        shutil.copytree(main, out / main.name)
    else:
        shutil.copyfile(main, out / main.name)
    record: dict[str, Any] = {
        "main": main.name,
        "source": str(source.resolve()),
        "model_format": kind,
        "recorded_by": {},
        "facts": {},
    }
    if kind == "tflite":
        record["model_format"], record["recorded_by"] = "tflite", _tflite_record(main)
    elif kind in ("mlmodel", "mlpackage"):
        record["model_format"], record["recorded_by"] = _coreml_record(main)
    return record


def _tfjs(model_json: Path, out: Path, target: str) -> dict[str, Any]:
    data = validate.read_json(model_json, "TF.js model")
    if not isinstance(data, dict) or data.get("format") not in ("graph-model", "layers-model"):
        got = data.get("format") if isinstance(data, dict) else validate.json_type_with_article(data)
        raise HarnessError(f"{model_json}: $.format: expected 'graph-model' or 'layers-model', got {got!r}")
    wanted = "layers-model" if target in LAYERS_TARGETS else "graph-model"
    if data["format"] != wanted:
        loader = "tf.loadLayersModel" if wanted == "layers-model" else "tf.loadGraphModel"
        raise HarnessError(f"{model_json}: a TF.js {data['format']}; the {target} runtimes load a {wanted} ({loader})")
    shutil.copyfile(model_json, out / "model.json")
    for g, group in enumerate(data.get("weightsManifest") or []):
        for p, name in enumerate(group.get("paths") or []):
            rel = PurePosixPath(str(name))
            if rel.is_absolute() or ".." in rel.parts:
                raise HarnessError(f"{model_json}: $.weightsManifest[{g}].paths[{p}]: {name!r} leaves the model folder")
            shard = model_json.parent / rel
            if not shard.is_file():
                raise HarnessError(f"{model_json}: $.weightsManifest[{g}].paths[{p}]: weight file {shard} is missing")
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shard, out / rel)
    recorded = {k: str(data[k]) for k in ("convertedBy", "generatedBy") if data.get(k)}
    return {
        "main": "model.json",
        "source": str(model_json.resolve()),
        "model_format": f"tfjs {data['format']}",
        "recorded_by": recorded,
        "facts": {"model_format": f"tfjs_{data['format'].replace('-', '_')}"},
    }


def _tflite_record(path: Path) -> dict[str, str]:
    """The minimum LiteRT version the converter wrote into the flatbuffer's metadata."""
    from runtimes.frameworks import tflite_schema

    schema = tflite_schema()
    try:
        model = schema.Model.GetRootAs(path.read_bytes(), 0)
        out = {"schema_version": str(model.Version())}
        for k in range(model.MetadataLength()):
            md = model.Metadata(k)
            if md.Name() == b"min_runtime_version":
                raw = model.Buffers(md.Buffer()).DataAsNumpy()
                out["min_runtime_version"] = bytes(raw.tobytes()).rstrip(b"\0").decode("ascii", "replace")
    except Exception as e:  # a flatbuffer that is not a TFLite model raises anything
        raise HarnessError(f"{path}: not a TFLite flatbuffer ({str(e)[:120]})") from None
    return out


def _coreml_record(path: Path) -> tuple[str, dict[str, str]]:
    """(model type, coremltools version / source framework / specification version) of an .mlmodel
    or .mlpackage, from its protobuf spec (readable on any OS)."""
    from runtimes.frameworks import import_coremltools

    ct = import_coremltools()
    try:
        spec = ct.models.utils.load_spec(str(path))
    except Exception as e:  # protobuf and coremltools raise many types for a bad file
        raise HarnessError(f"{path}: coremltools cannot read it ({validate.one_line(str(e))[:160]})") from None
    meta = dict(spec.description.metadata.userDefined)
    out = {name: str(meta[key]) for key, name in COREMLTOOLS_KEYS.items() if key in meta}
    out["specification_version"] = str(spec.specificationVersion)
    return f"coreml {spec.WhichOneof('Type')}", out
