"""What a .tflite file holds, read from its flatbuffer: signature, I/O tensors, ops, tensor types.

Read with TensorFlow's own generated schema (`tensorflow.lite.python.schema_py_generated`), so
describing an export needs no interpreter; the artifact manifest records these facts, and the
size of the score step of a quantized model (`output_step`), which bounds how close an int8
model can come to keras at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def describe(data: bytes) -> dict[str, Any]:
    """Signature, inputs/outputs (name, tensor, dtype, shape), ops, tensor types, versions."""
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.Model.GetRootAs(data, 0)
    op_names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    type_names = {v: k.lower() for k, v in vars(schema.TensorType).items() if not k.startswith("_")}

    def op_name(code: Any) -> str:
        if code.CustomCode():  # Select TF ops are custom ops named "Flex<Op>"
            return str(code.CustomCode().decode())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        return op_names.get(builtin, str(builtin))

    graph = model.Subgraphs(0)

    def tensor(index: int) -> dict[str, Any]:
        t = graph.Tensors(index)
        shape = t.ShapeSignatureAsNumpy() if t.ShapeSignatureLength() else t.ShapeAsNumpy()
        return {
            "tensor": t.Name().decode(),
            "dtype": type_names[t.Type()],
            "shape": [None if int(d) < 0 else int(d) for d in shape],
        }

    if model.SignatureDefsLength():
        sig = model.SignatureDefs(0)
        signature = sig.SignatureKey().decode()
        ins = [(sig.Inputs(i).Name().decode(), sig.Inputs(i).TensorIndex()) for i in range(sig.InputsLength())]
        outs = [(sig.Outputs(i).Name().decode(), sig.Outputs(i).TensorIndex()) for i in range(sig.OutputsLength())]
    else:  # a frozen concrete function (the static-batch path) has no signature def
        signature = None
        ins = [(graph.Tensors(int(i)).Name().decode(), int(i)) for i in graph.InputsAsNumpy()]
        outs = [(graph.Tensors(int(i)).Name().decode(), int(i)) for i in graph.OutputsAsNumpy()]
    ops = set()
    for g in range(model.SubgraphsLength()):  # a WHILE loop's body and condition are subgraphs too
        sub = model.Subgraphs(g)
        ops |= {op_name(model.OperatorCodes(sub.Operators(i).OpcodeIndex())) for i in range(sub.OperatorsLength())}
    facts: dict[str, Any] = {
        "signature": signature,
        "inputs": [{"name": name, **tensor(index)} for name, index in ins],
        "outputs": [{"name": name, **tensor(index)} for name, index in outs],
        "ops": sorted(ops),
        "tensor_types": sorted({type_names[graph.Tensors(i).Type()] for i in range(graph.TensorsLength())}),
        "schema_version": int(model.Version()),
    }
    for k in range(model.MetadataLength()):
        md = model.Metadata(k)
        if md.Name() == b"min_runtime_version":
            raw = model.Buffers(md.Buffer()).DataAsNumpy()
            if isinstance(raw, np.ndarray):
                facts["min_runtime_version"] = bytes(raw.tobytes()).rstrip(b"\0").decode("ascii", "replace")
    step = _output_step(model, graph, op_name)
    if step is not None:
        facts["output_step"] = step
    return facts


def _output_step(model: Any, graph: Any, op_name: Any) -> float | None:
    """The score resolution of a fully quantized model: the scale of the tensor its final
    DEQUANTIZE reads (1/256 for an int8 sigmoid), or of an int8 output itself."""
    outputs = set(graph.OutputsAsNumpy().tolist())
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        if op_name(model.OperatorCodes(op.OpcodeIndex())) == "DEQUANTIZE" and op.Outputs(0) in outputs:
            return _scale(graph.Tensors(op.Inputs(0)))
    for index in outputs:
        scale = _scale(graph.Tensors(index))
        if scale is not None:
            return scale
    return None


def _scale(t: Any) -> float | None:
    q = t.Quantization()
    return float(q.Scale(0)) if q is not None and q.ScaleLength() else None
