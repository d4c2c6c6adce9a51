"""The guest side of the arm64 runtimes: runs inside the arm64 Python under qemu-aarch64.

Standard library, numpy and ai_edge_litert only (the harness is not installed in the guest).
One request per line on stdin, one JSON answer per line on the saved stdout; native logs
(LiteRT's INFO lines) go to stderr, because fd 1 is pointed there before LiteRT loads.
Arrays travel as base64 of their raw bytes. Requests:

- {"op": "load", "path", "length", "xnnpack_flags", "threads"} -> the model's input/output facts.
  Flags 0: the Interpreter with its default resolver (XNNPACK applied, as on a phone's CPU).
  Other flags (0x4: FORCE_FP16): CompiledModel with CpuOptions(xnnpack_flags=...), the only
  Python API that passes delegate flags.
- {"op": "run", "n", "ids"} -> {"rows": float64 [n, C] of the output, "cols", "seconds"}
- {"op": "latency", "row", "repeats", "warmup"} -> {"ms": [...]}
Any failure is {"error": "..."}; the worker keeps serving.
"""

import base64
import json
import os
import struct
import sys
import time

OUT = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)  # anything native that prints to stdout lands on stderr, not in the answers

import numpy as np  # noqa: E402 - after the fd swap, so its loaders cannot write to the answers

HWCAP_FPHP, HWCAP_ASIMDHP = 1 << 9, 1 << 10  # linux/arch/arm64/include/uapi/asm/hwcap.h
AT_HWCAP = 16


def hwcap() -> int:
    """AT_HWCAP of this process (qemu gives the emulated core's), from /proc/self/auxv."""
    with open("/proc/self/auxv", "rb") as f:
        data = f.read()
    for i in range(0, len(data) - 15, 16):
        key, value = struct.unpack("<QQ", data[i : i + 16])
        if key == AT_HWCAP:
            return int(value)
    return 0


class Model:
    def __init__(self, path: str, length: int, flags: int, *, threads: int) -> None:
        self.length, self.flags, self.rows = length, flags, 0
        if flags:
            from ai_edge_litert.compiled_model import CompiledModel
            from ai_edge_litert.hardware_accelerator import HardwareAccelerator
            from ai_edge_litert.options import CpuOptions, Options

            options = Options(HardwareAccelerator.CPU, cpu_options=CpuOptions(num_threads=threads, xnnpack_flags=flags))
            self.cm = CompiledModel.from_file(path, options=options)
            self.api = "CompiledModel"
        else:
            from ai_edge_litert.interpreter import Interpreter

            self.it = Interpreter(model_path=path, num_threads=threads)
            self.inp, self.out = self.it.get_input_details()[0], self.it.get_output_details()[0]
            self.api = "Interpreter"
        self.resize(1)
        self.run(np.zeros((1, length), np.int32))  # a warm-up that also proves the model runs here
        self.batches = True
        if flags:  # CompiledModel does not resize every graph's output (the attention block's): then row by row
            try:
                self.batches = self.run(np.zeros((2, length), np.int32))[0].shape[0] == 2
            except (ValueError, RuntimeError):
                self.batches = False
            self.resize(1)

    def resize(self, n: int) -> None:
        if n == self.rows:
            return
        if self.flags:
            self.cm.resize_input_tensor(0, [n, self.length])
            self.ins, self.outs = self.cm.create_input_buffers(0), self.cm.create_output_buffers(0)
        else:
            self.it.resize_tensor_input(self.inp["index"], [n, self.length], strict=True)
            self.it.allocate_tensors()
        self.rows = n

    def run(self, ids: np.ndarray) -> tuple[np.ndarray, float]:
        self.resize(len(ids))
        started = time.perf_counter()
        if self.flags:
            self.ins[0].write(ids)
            self.cm.run_by_index(0, self.ins, self.outs)
            count = int(np.prod(self.outs[0].get_tensor_details()["shape"]))  # the buffer's [n, C] after resize
            y = np.asarray(self.outs[0].read(count, np.float32)).reshape(len(ids), -1)
        else:
            self.it.set_tensor(self.inp["index"], ids)
            self.it.invoke()
            y = self.it.get_tensor(self.out["index"])
        seconds = time.perf_counter() - started
        if not self.flags and self.out["dtype"] != np.float32:
            scale, zero = self.out["quantization"]
            return (y.astype(np.float64) - zero) * scale, seconds
        return np.asarray(y, dtype=np.float64).reshape(len(ids), -1), seconds

    def facts(self, path: str) -> dict:
        if self.flags:  # CompiledModel: the batch dimension as the model declares it, read by an Interpreter
            from ai_edge_litert.interpreter import Interpreter

            declared = Interpreter(model_path=path).get_input_details()[0]["shape_signature"]
            return {"api": self.api, "batch_signature": int(declared[0]) if self.batches else 1}
        ops = self.it._get_ops_details()
        return {
            "api": self.api,
            "xnnpack_partitions": sum(1 for op in ops if op["op_name"] == "DELEGATE"),
            "input_dtype": np.dtype(self.inp["dtype"]).name,
            "output_dtype": np.dtype(self.out["dtype"]).name,
            "batch_signature": int(self.inp["shape_signature"][0]),
        }


def ids_of(text: str, n: int, length: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.int32).reshape(n, length).copy()


def serve() -> None:
    model = None
    caps = hwcap()
    for line in sys.stdin:
        try:
            req = json.loads(line)
            op = req["op"]
            if op == "load":
                started = time.perf_counter()
                model = Model(req["path"], int(req["length"]), int(req["xnnpack_flags"]), threads=int(req["threads"]))
                import ai_edge_litert

                answer = {
                    **model.facts(req["path"]),
                    "load_seconds": time.perf_counter() - started,
                    "litert": getattr(ai_edge_litert, "__version__", "?"),
                    "numpy": np.__version__,
                    "python": sys.version.split()[0],
                    "machine": os.uname().machine,
                    "fp16_arithmetic_core": bool(caps & HWCAP_ASIMDHP and caps & HWCAP_FPHP),
                    "hwcap": hex(caps),
                }
            elif model is None:
                answer = {"error": "no model loaded"}
            elif op == "run":
                y, seconds = model.run(ids_of(req["ids"], int(req["n"]), model.length))
                answer = {"rows": base64.b64encode(y.tobytes()).decode(), "cols": y.shape[1], "seconds": seconds}
            elif op == "latency":
                row = ids_of(req["row"], 1, model.length)
                times = []
                for i in range(int(req["warmup"]) + int(req["repeats"])):
                    _, seconds = model.run(row)
                    if i >= int(req["warmup"]):
                        times.append(seconds * 1000)
                answer = {"ms": times}
            else:
                answer = {"error": f"unknown op {op!r}"}
        except Exception as e:  # noqa: BLE001 - one failed request must not end the worker
            answer = {"error": f"{type(e).__name__}: {' '.join(str(e).split())[:300]}"}
        OUT.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    serve()
