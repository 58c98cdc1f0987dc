"""The int8 and fp32 GEMM ceiling of onnxruntime on this CPU, for the local embedding bar (issue 4).

One ``MatMul`` of MiniLM's FFN shape (64 texts x 60 tokens = 3,840 rows, 384 -> 1,536), fp32 and dynamically
quantised (int8 weights, per channel, as the local model's graph), on 1 and 2 intra-op threads; prints the
median GMAC/s of 10 runs and what 200 texts/s of ~60 tokens needs from the dense layers alone.

Run: ``python bench/bench_gemm.py``. Writes two small models to a temporary directory.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ROWS, K, N = 64 * 60, 384, 1536
LAYERS, HIDDEN, FFN, TOKENS = 6, 384, 1536, 60


def build(directory: Path, quantised: bool) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = (np.random.default_rng(0).standard_normal((K, N)) * 0.05).astype(np.float32)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [ROWS, K])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [ROWS, N])
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "gemm", [x], [y],
                              [numpy_helper.from_array(weights, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = directory / "fp32.onnx"
    onnx.save(model, str(path))
    if not quantised:
        return path
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = directory / "int8.onnx"
    quantize_dynamic(str(path), str(target), weight_type=QuantType.QInt8, per_channel=True)
    return target


def main() -> None:
    import onnxruntime as ort

    x = np.random.default_rng(1).standard_normal((ROWS, K)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        for quantised in (False, True):
            path = build(Path(tmp), quantised)
            for threads in (1, 2):
                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.log_severity_level = 3
                session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
                session.run(None, {"x": x})
                times = []
                for _ in range(10):
                    t0 = time.perf_counter()
                    session.run(None, {"x": x})
                    times.append(time.perf_counter() - t0)
                rate = ROWS * K * N / statistics.median(times) / 1e9
                print(f"{'int8' if quantised else 'fp32'}, {threads} thread(s): {rate:.1f} GMAC/s")
    per_text = LAYERS * (4 * HIDDEN * HIDDEN + 2 * HIDDEN * FFN) * TOKENS
    print(f"dense layers of one {TOKENS}-token text: {per_text / 1e6:.0f} M MACs; 200 texts/s needs "
          f"{200 * per_text / 1e9:.1f} GMAC/s")


if __name__ == "__main__":
    main()
