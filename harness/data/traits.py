"""What a Keras 3 model is made of, in the words golden/known_limitations.toml uses (`when`).

Read from the .keras file's config.json (a zip member), without importing Keras, so
`harness doctor` can say what will not work before it converts anything:
- `layer:<Class>` for every layer, nested ones included (a Bidirectional's GRU, a model in a
  model); custom layers by their class name;
- `activation:<name>` for every activation a layer names (`activation`, `recurrent_activation`,
  and an Activation layer's): "gelu" is Keras's exact gelu, the only built-in gelu.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from harness.core import json_reader, model_archive
from harness.core.errors import HarnessError

ACTIVATION_KEYS = ("activation", "recurrent_activation")


def _activation_name(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # {"class_name": "function", "config": "gelu"} or a registered function
        config = value.get("config")
        if isinstance(config, str):
            return config.rpartition(">")[2]
        return str(value.get("class_name", "")) or None
    return None


def _walk(node: Any, out: set[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, out)
        return
    if not isinstance(node, dict):
        return
    config = node.get("config")
    if isinstance(config, dict) and "class_name" in node and "trainable" in config:
        out.add(f"layer:{node['class_name']}")
        for key in ACTIVATION_KEYS:
            name = _activation_name(config.get(key))
            if name:
                out.add(f"activation:{name}")
    for value in node.values():
        _walk(value, out)


def of_config(config: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    _walk(config, out)
    return out


def of_file(path: Path) -> set[str]:
    """The traits of a .keras file (its config.json)."""
    model_archive.check_archive(path)
    try:
        with zipfile.ZipFile(path) as z:
            config = json_reader.loads(z.read("config.json"), f"{path}: config.json")
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        raise HarnessError(f"{path}: not a Keras 3 model file ({e})") from None
    return of_config(config)
