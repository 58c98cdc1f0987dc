"""The int8 and fp32 GEMM ceiling of onnxruntime on this CPU, for the local embedding bar (issue 4).

One ``MatMul`` of MiniLM's FFN shape (64 texts x 60 tokens = 3,840 rows, 384 -> 1,536), fp32 and dynamically
quantised (int8 weights, per channel, as the local model's graph), on 1 and 2 intra-op threads; prints the
median GMAC/s of 10 runs and what 200 texts/s of ~60 tokens needs from the dense layers alone. Then the
ceiling in texts/s: a graph of nothing but MiniLM's 36 dense layers (int8 exactly as the local model runs
them: 7-bit per-column weights, activations quantised per tensor), fed groups of 8 texts of 60 tokens from
one session on two threads, as the provider does. No attention, GELU, LayerNorm or pooling: the real model
can only be slower.

Run: ``python bench/bench_gemm.py``. Writes two small models to a temporary directory.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
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


def dense_only(group: int = 8) -> bytes:
    """The serialized graph of MiniLM's dense layers alone, on ``group`` texts of TOKENS tokens."""
    from onnx import TensorProto, helper, numpy_helper

    from rem_db.embeddings.minilm_graph import quantise_weight

    rng = np.random.default_rng(0)
    nodes, inits, quantised = [], [], set()

    def linear(x: str, k: int, n: int, name: str) -> str:
        wq, ws = quantise_weight((rng.standard_normal((k, n)) * 0.05).astype(np.float32))
        inits.extend([numpy_helper.from_array(wq, name + "_w"), numpy_helper.from_array(ws, name + "_s"),
                      numpy_helper.from_array(np.zeros(n, np.float32), name + "_b")])
        if x not in quantised:
            quantised.add(x)
            nodes.append(helper.make_node("DynamicQuantizeLinear", [x], [x + "_q", x + "_qs", x + "_qz"]))
        nodes.append(helper.make_node("MatMulIntegerToFloat", [x + "_q", name + "_w", x + "_qs", name + "_s",
                                                               x + "_qz", "", name + "_b"], [name],
                                      domain="com.microsoft"))
        return name

    x = "x"
    for layer in range(LAYERS):
        q, k, v = (linear(x, HIDDEN, HIDDEN, f"l{layer}_{t}") for t in "qkv")
        nodes.append(helper.make_node("Sum", [q, k, v], [f"l{layer}_qkv"]))  # stands in for attention
        inner = linear(linear(f"l{layer}_qkv", HIDDEN, HIDDEN, f"l{layer}_o"), HIDDEN, FFN, f"l{layer}_ffn1")
        x = linear(inner, FFN, HIDDEN, f"l{layer}_ffn2")
    graph = helper.make_graph(nodes, "dense", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                             [group * TOKENS, HIDDEN])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)], inits)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    return model.SerializeToString()


def dense_ceiling(group: int = 8, texts: int = 640, runs: int = 7) -> float:
    """Median texts/s of :func:`dense_only` over ``runs`` runs of ``texts`` texts on two threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(dense_only(group), options, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).standard_normal((group * TOKENS, HIDDEN)).astype(np.float32)

    def work(count: int) -> None:
        for _ in range(count):
            session.run(None, {"x": x})

    work(2)
    rates = []
    for _ in range(runs):
        threads = [threading.Thread(target=work, args=(texts // group // 2,)) for _ in range(2)]
        t0 = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rates.append(texts / (time.perf_counter() - t0))
    print(f"dense layers only, groups of {group}, 2 threads: median {statistics.median(rates):.0f} texts/s "
          "(runs " + ", ".join(f"{r:.0f}" for r in rates) + ")")
    return statistics.median(rates)


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
    dense_ceiling()


if __name__ == "__main__":
    main()
