"""Build an ONNX graph of all-MiniLM-L6-v2 (a 6-layer BERT) straight from its safetensors weights.

No torch: the graph is written op by op with ``onnx.helper`` from the installed weights. It runs on *packed*
tokens: every token of the batch but the leading ``[CLS]`` is one row of a ``(tokens, 384)`` matrix, with no
padding, so the dense layers (nearly all of the work) compute nothing for padding. Attention alone needs the
padded ``(batch, length)`` layout; the graph gathers into it and back with the maps :func:`pack_batch` makes.
Attention is ONNX's own ``Attention`` op (opset 23): on CPU it runs ~25 % faster than ``MultiHeadAttention``.

``[CLS]`` runs as a separate stream of one row per text. Its hidden state carries the model's "massive
activations" (values near 30 in a few channels, ten times anything else), so quantising it together with the
other tokens would spread a per-tensor int8 scale over that range and drown every other token; quantised on
its own (its own scale), it costs the output little.

Precision ``int8``: each stream's dense layers quantise their input dynamically (``DynamicQuantizeLinear``,
per tensor, over real rows only) and use int8 weights quantised per output column to 7 bits (±63). Seven
bits, because on x86 without VNNI the u8×s8 kernel adds pairs of products in 16 bits (``vpmaddubsw``): with
±127 weights those sums saturate and cost far more accuracy than the lost bit. GELU uses its tanh form.
Precision ``fp32`` is the exact model (erf GELU), the same graph without quantisation.

Inputs are the arrays :func:`pack_batch` returns; the output ``embeddings`` is the mean-pooled,
L2-normalised sentence vector (batch x 384), as sentence-transformers computes it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

OPSET = 23  # the standard Attention op
MS = "com.microsoft"
WEIGHT_QMAX = 63  # 7-bit weights: no 16-bit saturation in the AVX2 u8s8 kernel
INPUTS = ("tok_ids", "tok_pos", "gather_map", "attn_mask", "tok_rows", "cls_rows", "counts")


def quantise_weight(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-column int8 quantisation of a (in, out) weight: (int8 weight, float scale per column)."""
    scale = np.maximum(np.abs(w).max(axis=0), 1e-12) / WEIGHT_QMAX
    return np.clip(np.round(w / scale), -WEIGHT_QMAX, WEIGHT_QMAX).astype(np.int8), scale.astype(np.float32)


def pack_batch(sequences: list[list[int]]) -> dict[str, np.ndarray]:
    """Graph inputs for token id lists that each start with ``[CLS]`` (and hold at least one more token).

    ``tok_ids``/``tok_pos``: every other token and its position, text after text; ``gather_map`` (batch,
    length): row of each padded position in ``[cls rows; token rows; one zero row]``; ``attn_mask`` (batch, 1,
    length, length): true where the key is a real position; ``tok_rows``/``cls_rows``: flat padded index of
    each token / each ``[CLS]``; ``counts``: tokens per text (for the mean)."""
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    batch, length = len(sequences), int(lengths.max())
    others = lengths - 1
    total = int(others.sum())
    starts = np.cumsum(others) - others
    text_of = np.repeat(np.arange(batch), others)
    position = np.arange(total) - np.repeat(starts, others) + 1
    gather_map = np.full((batch, length), batch + total, dtype=np.int64)
    gather_map[:, 0] = np.arange(batch)
    gather_map[text_of, position] = batch + np.arange(total)
    return {
        "tok_ids": np.fromiter((t for s in sequences for t in s[1:]), dtype=np.int64, count=total),
        "tok_pos": position,
        "gather_map": gather_map,
        "attn_mask": np.broadcast_to((np.arange(length)[None, :] < lengths[:, None])[:, None, None, :],
                                     (batch, 1, length, length)).copy(),
        "tok_rows": text_of * length + position,
        "cls_rows": np.arange(batch, dtype=np.int64) * length,
        "counts": lengths.astype(np.float32)[:, None],
    }


def build_model(model_dir: Path, precision: str = "fp32"):  # -> onnx.ModelProto
    """The graph for ``precision`` (``int8`` or ``fp32``) from the weights in ``model_dir``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    config = json.loads((model_dir / "config.json").read_text())
    weights = load_file(str(model_dir / "model.safetensors"))
    cls_id = Tokenizer.from_file(str(model_dir / "tokenizer.json")).token_to_id("[CLS]")
    hidden = config["hidden_size"]
    eps = float(config["layer_norm_eps"])
    int8 = precision == "int8"
    nodes: list = []
    inits: dict[str, TensorProto] = {}

    def const(name: str, array: np.ndarray) -> str:
        if name not in inits:
            inits[name] = numpy_helper.from_array(np.ascontiguousarray(array), name)
        return name

    def node(op: str, inputs: list[str], output: str, outputs: list[str] | None = None,
             domain: str | None = None, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, outputs or [output], name=output, domain=domain, **attrs))
        return output

    quantised: dict[str, list[str]] = {}

    def linear(x: str, prefix: str, out: str) -> str:
        """``x @ W + b``: int8 with ``x`` quantised on its own (or fp32 for the exact model)."""
        if not int8:
            return linear_fp32(x, prefix, out)
        if x not in quantised:  # one activation quantisation per tensor, shared by its consumers
            quantised[x] = [x + "_q", x + "_qscale", x + "_qzero"]
            node("DynamicQuantizeLinear", [x], x + "_q", outputs=quantised[x])
        xq, xs, xz = quantised[x]
        if prefix + ".wq" not in inits:  # both streams share the layer's int8 weights
            wq, ws = quantise_weight(weights[prefix + ".weight"].T.astype(np.float32))
            const(prefix + ".wq", wq)
            const(prefix + ".ws", ws)
        return node("MatMulIntegerToFloat", [xq, prefix + ".wq", xs, prefix + ".ws", xz, "",
                                             const(prefix + ".bias", weights[prefix + ".bias"])], out, domain=MS)

    def linear_fp32(x: str, prefix: str, out: str) -> str:
        w = const(prefix + ".wt", weights[prefix + ".weight"].T.astype(np.float32))
        return node("Add", [node("MatMul", [x, w], out + "_mm"), const(prefix + ".bias", weights[prefix + ".bias"])],
                    out)

    def layer_norm(x: str, prefix: str, out: str) -> str:
        gamma, beta = (const(f"{prefix}.{t}", weights[f"{prefix}.{t}"]) for t in ("weight", "bias"))
        return node("LayerNormalization", [x, gamma, beta], out, axis=-1, epsilon=eps)

    def residual_norm(y: str, x: str, prefix: str, out: str) -> str:
        # Add + LayerNormalization, not SkipLayerNormalization: on CPU the fused op is several times slower
        return layer_norm(node("Add", [y, x], out + "_res"), prefix, out)

    def gelu(x: str, out: str, tanh: bool) -> str:
        return node("Gelu", [x], out, approximate="tanh" if tanh else "none")

    tok_ids, tok_pos, gather_map, attn_mask, tok_rows, cls_rows, counts = INPUTS
    word = weights["embeddings.word_embeddings.weight"]
    positions = weights["embeddings.position_embeddings.weight"]
    type0 = weights["embeddings.token_type_embeddings.weight"][0]
    # [CLS] at position 0 embeds to the same row for every text: computed here once
    e = (word[cls_id] + positions[0] + type0).astype(np.float64)
    e = (e - e.mean()) / np.sqrt(e.var() + eps)
    e = e * weights["embeddings.LayerNorm.weight"] + weights["embeddings.LayerNorm.bias"]
    cls_shape = node("Concat", [node("Shape", [cls_rows], "n_texts"), const("hidden", np.array([hidden], np.int64))],
                     "cls_shape", axis=0)
    x_cls = node("Expand", [const("cls_embedding", e.astype(np.float32)[None, :]), cls_shape], "emb_cls")
    x_tok = node("Add", [node("Gather", [const("word_embeddings", word), tok_ids], "word_emb"),
                         node("Gather", [const("position_embeddings", positions), tok_pos], "pos_emb")], "emb_sum")
    x_tok = node("Add", [x_tok, const("token_type0", type0)], "emb_typed")
    x_tok = layer_norm(x_tok, "embeddings.LayerNorm", "emb_tok")
    zero_row = const("zero_row", np.zeros((1, hidden), np.float32))
    flat = const("flat", np.array([-1, hidden], np.int64))

    for n in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{n}"
        padded = []
        for t in ("query", "key", "value"):
            w = f"{p}.attention.self.{t}"
            rows = node("Concat", [linear(x_cls, w, f"l{n}_{t}_cls"), linear(x_tok, w, f"l{n}_{t}_tok"),
                                   zero_row], f"l{n}_{t}_rows", axis=0)
            padded.append(node("Gather", [rows, gather_map], f"l{n}_{t}"))
        heads = config["num_attention_heads"]
        ctx = node("Attention", [*padded, attn_mask], f"l{n}_ctx", q_num_heads=heads, kv_num_heads=heads)
        ctx = node("Reshape", [ctx, flat], f"l{n}_ctx_flat")
        w, norm = f"{p}.attention.output.dense", f"{p}.attention.output.LayerNorm"
        x_tok = residual_norm(linear(node("Gather", [ctx, tok_rows], f"l{n}_ctx_tok"), w, f"l{n}_attn_tok"),
                              x_tok, norm, f"l{n}_ln1_tok")
        x_cls = residual_norm(linear(node("Gather", [ctx, cls_rows], f"l{n}_ctx_cls"), w, f"l{n}_attn_cls"),
                              x_cls, norm, f"l{n}_ln1_cls")
        inner, outer, norm = f"{p}.intermediate.dense", f"{p}.output.dense", f"{p}.output.LayerNorm"
        h = gelu(linear(x_tok, inner, f"l{n}_inter_tok"), f"l{n}_gelu_tok", tanh=int8)
        x_tok = residual_norm(linear(h, outer, f"l{n}_out_tok"), x_tok, norm, f"l{n}_ln2_tok")
        h = gelu(linear(x_cls, inner, f"l{n}_inter_cls"), f"l{n}_gelu_cls", tanh=int8)
        x_cls = residual_norm(linear(h, outer, f"l{n}_out_cls"), x_cls, norm, f"l{n}_ln2_cls")

    # mean pooling over each text's tokens (padding gathers the zero row), then L2 normalisation
    rows = node("Concat", [x_cls, x_tok, zero_row], "final_rows", axis=0)
    summed = node("ReduceSum", [node("Gather", [rows, gather_map], "final_padded"),
                                const("axis_1", np.array([1], np.int64))], "token_sum", keepdims=0)
    pooled = node("Div", [summed, counts], "pooled")
    norm = node("ReduceL2", [pooled, const("axis_last", np.array([1], np.int64))], "pooled_norm", keepdims=1)
    norm = node("Max", [norm, const("min_norm", np.array(1e-12, np.float32))], "pooled_norm_safe")
    node("Div", [pooled, norm], "embeddings")

    i64 = TensorProto.INT64
    inputs = [helper.make_tensor_value_info(tok_ids, i64, ["tokens"]),
              helper.make_tensor_value_info(tok_pos, i64, ["tokens"]),
              helper.make_tensor_value_info(gather_map, i64, ["batch", "length"]),
              helper.make_tensor_value_info(attn_mask, TensorProto.BOOL, ["batch", 1, "length", "length"]),
              helper.make_tensor_value_info(tok_rows, i64, ["tokens"]),
              helper.make_tensor_value_info(cls_rows, i64, ["batch"]),
              helper.make_tensor_value_info(counts, TensorProto.FLOAT, ["batch", 1])]
    graph = helper.make_graph(nodes, "all-MiniLM-L6-v2", inputs,
                              [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", hidden])],
                              initializer=list(inits.values()))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS, 1)],
                              producer_name="rem_db")
    model.ir_version = 10
    onnx.checker.check_model(model)
    return model
