"""Build an ONNX graph of all-MiniLM-L6-v2 (a 6-layer BERT) straight from its safetensors weights.

No torch: the graph is written op by op with ``onnx.helper`` from the installed weights. It runs on *packed*
tokens: every token of the batch but the leading ``[CLS]`` is one row of a ``(tokens, 384)`` matrix, with no
padding, so the dense layers (nearly all of the work) compute nothing for padding. Attention alone needs the
padded ``(batch, length)`` layout; the graph gathers into it and back with the maps :func:`pack_batch` makes.
Attention is ONNX's own ``Attention`` op (opset 23): on CPU it runs ~25 % faster than ``MultiHeadAttention``.
``[CLS]`` runs as a separate stream of one row per text (its "massive activations", values near 30 in a few
channels, are unlike any other token's).

**Per-text determinism.** A text's vector must not depend on the texts it is batched with. Every operation here
works row by row (dense layers, LayerNorm, GELU) or text by text (attention, whose result for a text is the
same whatever the padding), with one exception in floating point: reductions over several texts. So

- int8 activations get no scale computed over the batch. The token stream is quantised with *fixed* per-tensor
  scales, calibrated once when the graph is built (:mod:`.calibration`): the exact model runs over a set of
  calibration texts, and each activation's range, plus 20 % headroom, sets its scale. Before quantising, each
  channel's calibration mean is subtracted, which narrows the ranges; the subtraction is folded into the
  LayerNorm betas and the biases, so it costs nothing. The ``[CLS]`` stream (one row per text, and activations
  that vary more) is quantised row by row instead: each row's own max-abs scale, after the same centring.
- the graph stops at the last layer's hidden states; mean pooling and L2 normalisation happen in numpy
  (:func:`mean_pool`), which sums each text's rows on their own. (onnxruntime's ``ReduceSum`` over a padded batch
  rounds differently with the batch's shape.)

Precision ``int8``: dense layers use int8 weights quantised per output column to 7 bits (±63): on x86 without
VNNI the u8×s8 kernel adds pairs of products in 16 bits (``vpmaddubsw``), and ±127 weights would saturate those
sums. GELU uses its tanh form. Precision ``fp32`` is the exact model (erf GELU): the same graph without
quantisation or centring.

Inputs are the arrays :func:`pack_batch` returns; the outputs ``cls`` (batch x 384) and ``tokens`` (tokens x
384) are the final hidden states, which :func:`mean_pool` turns into sentence vectors as sentence-transformers
computes them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAX_TOKENS = 256  # texts are cut there, as sentence-transformers does
OPSET = 23  # the standard Attention op
MS = "com.microsoft"
WEIGHT_QMAX = 63  # 7-bit weights: no 16-bit saturation in the AVX2 u8s8 kernel
HEADROOM = 1.2  # fixed int8 ranges: calibration range x 1.2
INPUTS = ("tok_ids", "tok_pos", "gather_map", "attn_mask", "tok_rows", "cls_rows")
OUTPUTS = ("cls", "tokens")


@dataclass(frozen=True)
class ChannelStats:
    """One activation over the calibration texts, per channel: mean, minimum and maximum."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


def quantise_weight(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-column int8 quantisation of a (in, out) weight: (int8 weight, float scale per column)."""
    scale = np.maximum(np.abs(w).max(axis=0), 1e-12) / WEIGHT_QMAX
    return np.clip(np.round(w / scale), -WEIGHT_QMAX, WEIGHT_QMAX).astype(np.int8), scale.astype(np.float32)


def pack_batch(sequences: Sequence[Sequence[int]]) -> dict[str, np.ndarray]:
    """Graph inputs for token id lists that each start with ``[CLS]`` (and hold at least one more token).

    ``tok_ids``/``tok_pos``: every other token and its position, text after text; ``gather_map`` (batch,
    length): row of each padded position in ``[cls rows; token rows; one zero row]``; ``attn_mask`` (batch, 1,
    length, length): true where the key is a real position; ``tok_rows``/``cls_rows``: flat padded index of
    each token / each ``[CLS]``."""
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
    }


def mean_pool(cls: np.ndarray, tokens: np.ndarray, sequences: Sequence[Sequence[int]]) -> np.ndarray:
    """Sentence vectors from the graph's outputs: the mean of each text's hidden states, L2-normalised.

    Each text's rows are summed on their own, in order, so the result does not depend on the other texts."""
    others = np.fromiter((len(s) - 1 for s in sequences), dtype=np.int64, count=len(sequences))
    starts = np.cumsum(others) - others
    summed = np.add.reduceat(tokens, starts, axis=0) + cls  # every text has a token besides [CLS]
    pooled = summed / (others + 1).astype(np.float32)[:, None]
    norm = np.sqrt((pooled * pooled).sum(axis=1, keepdims=True))
    return (pooled / np.maximum(norm, np.float32(1e-12))).astype(np.float32)


def probe_names(layers: int) -> list[str]:
    """The activations :mod:`.calibration` measures: every dense layer's input, in both streams."""
    names = ["emb_tok"]
    for n in range(layers):
        for stream in ("tok", "cls"):
            names += [f"l{n}_ctx_{stream}", f"l{n}_ln1_{stream}", f"l{n}_gelu_{stream}"]
            if n + 1 < layers:
                names.append(f"l{n}_ln2_{stream}")
    return names


def _outward(value: float, up: bool) -> float:
    """``value`` rounded up (``up``) or down to 3 significant digits, so that a rebuild on another CPU, whose
    fp32 kernels round differently in the last bit, gives the same graph."""
    if value == 0:
        return 0.0
    step = 10.0 ** (np.floor(np.log10(abs(value))) - 2)
    return float((np.ceil if up else np.floor)(value / step) * step)


def build_model(model_dir: Path, precision: str = "fp32", stats: dict[str, ChannelStats] | None = None, *,
                probes: bool = False):  # -> onnx.ModelProto
    """The graph for ``precision`` (``int8`` or ``fp32``) from the weights in ``model_dir``; ``int8`` needs the
    calibration ``stats`` (:func:`.calibration.activation_stats`). ``probes`` adds every name of
    :func:`probe_names` as an output (for calibration)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    int8 = precision == "int8"
    if int8 and stats is None:
        raise ValueError("the int8 graph needs calibration statistics")
    config = json.loads((model_dir / "config.json").read_text())
    weights = {k: v.astype(np.float64) for k, v in load_file(str(model_dir / "model.safetensors")).items()}
    cls_id = Tokenizer.from_file(str(model_dir / "tokenizer.json")).token_to_id("[CLS]")
    hidden, inner_size, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    eps = float(config["layer_norm_eps"])
    calibrated = stats or {}
    nodes: list = []
    inits: dict[str, TensorProto] = {}
    quantised: dict[str, tuple[str, str, str]] = {}  # activation -> (quantised, scale, zero point)
    zero_points: list[str] = []  # the [CLS] stream's per-row zero points, made once

    def const(name: str, array: Any, dtype: Any = np.float32) -> str:
        if name not in inits:
            value = np.asarray(array) if dtype is None else np.asarray(array, dtype=dtype)
            inits[name] = numpy_helper.from_array(np.ascontiguousarray(value), name)
        return name

    def node(op: str, inputs: list[str], output: str, domain: str | None = None, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain, **attrs))
        return output

    def w(prefix: str) -> np.ndarray:  # (in, out)
        return weights[prefix + ".weight"].T

    def centre(name: str, width: int = hidden) -> np.ndarray:
        """The calibration mean subtracted from activation ``name`` before it is quantised (int8 only)."""
        if not int8:
            return np.zeros(width)
        return np.round(calibrated[name].mean, 3)  # rounded: see _outward

    def int8_weight(prefix: str, weight: np.ndarray) -> tuple[str, str]:
        if prefix + ".wq" not in inits:
            wq, ws = quantise_weight(weight.astype(np.float32))
            const(prefix + ".wq", wq, None)
            const(prefix + ".ws", ws)
        return prefix + ".wq", prefix + ".ws"

    def linear(x: str, prefix: str, bias: np.ndarray, out: str, shift: np.ndarray, per_row: bool) -> str:
        """``(x + shift) @ W + b``, where ``x`` is an activation stored minus its centre ``shift``: the shift
        folds into the bias. int8: a fixed scale (token stream; bias fused into the kernel) or each row's own
        scale (``per_row``, the [CLS] stream)."""
        weight = w(prefix)
        b = const(out + ".b", bias + shift @ weight)
        if not int8:
            return node("Add", [node("MatMul", [x, const(prefix + ".wt", weight)], out + "_mm"), b], out)
        wq, ws = int8_weight(prefix, weight)
        if per_row:
            q, scale, zero = quantise_row(x, weight.shape[0])
            # the per-row scale multiplies the kernel's output, so the bias is added afterwards
            return node("Add", [node("MatMulIntegerToFloat", [q, wq, scale, ws, zero], out + "_mm", domain=MS), b], out)
        q, scale, zero = quantise_fixed(x, shift)
        return node("MatMulIntegerToFloat", [q, wq, scale, ws, zero, "", b], out, domain=MS)

    def quantise_fixed(x: str, shift: np.ndarray) -> tuple[str, str, str]:
        """Fixed scale and zero point: the calibrated range of ``x`` (stored minus ``shift``), plus headroom."""
        if x not in quantised:
            measured = calibrated[x]
            low = _outward(min(float((measured.low - shift).min()) * HEADROOM, 0.0), up=False)
            high = _outward(max(float((measured.high - shift).max()) * HEADROOM, 0.0), up=True)
            scale = max(high - low, 1e-6) / 255
            zero = int(np.clip(np.round(-low / scale), 0, 255))
            quantised[x] = (node("QuantizeLinear", [x, const(x + ".s", scale), const(x + ".z", zero, np.uint8)],
                                 x + "_q"), x + ".s", x + ".z")
        return quantised[x]

    def quantise_row(x: str, width: int) -> tuple[str, str, str]:
        """Symmetric int8 with each row's own max-abs scale. A zero row gets scale 0: it quantises to zeros and
        its product, multiplied by 0, is exactly 0."""
        if x not in quantised:
            peak = node("ReduceMax", [node("Abs", [x], x + "_abs"), const("last_axis", [-1], np.int64)], x + "_peak",
                        keepdims=1)
            scale = node("Mul", [peak, const("inv127", 1 / 127)], x + "_scale")
            if not zero_points:  # the zero point, 128, once per row
                column = node("Concat", [cls_count, const("one", [1], np.int64)], "cls_column", axis=0)
                zero_points.append(node("Expand", [const("zero128_column", [[128]], np.uint8), column], "cls_zero"))
            q = node("QuantizeLinear", [x, scale, zero_points[0]], x + "_q", axis=1, block_size=width)
            quantised[x] = (q, scale, const("zero128", 128, np.uint8))
        return quantised[x]

    def layer_norm(x: str, prefix: str, out: str, shift: np.ndarray) -> str:
        """LayerNorm whose output is stored minus ``shift`` (through its beta)."""
        gamma = const(prefix + ".weight", weights[prefix + ".weight"])
        return node("LayerNormalization", [x, gamma, const(out + ".beta", weights[prefix + ".bias"] - shift)], out,
                    axis=-1, epsilon=eps)

    def centred(x: str, shift: np.ndarray, out: str) -> str:
        return node("Sub", [x, const(out + ".centre", shift[None, :])], out) if np.any(shift) else x

    tok_ids, tok_pos, gather_map, attn_mask, tok_rows, cls_rows = INPUTS
    word = weights["embeddings.word_embeddings.weight"]
    positions = weights["embeddings.position_embeddings.weight"] + weights["embeddings.token_type_embeddings.weight"][0]
    # [CLS] at position 0 embeds to the same row for every text, and so do its layer-0 query, key and value
    e = word[cls_id] + positions[0]
    e = (e - e.mean()) / np.sqrt(e.var() + eps)
    e = e * weights["embeddings.LayerNorm.weight"] + weights["embeddings.LayerNorm.bias"]
    cls_count = node("Shape", [cls_rows], "cls_count")
    cls_shape = node("Concat", [cls_count, const("hidden", [hidden], np.int64)], "cls_shape", axis=0)
    emb_sum = node("Add", [node("Gather", [const("word_embeddings", word), tok_ids], "word_emb"),
                           node("Gather", [const("position_embeddings", positions), tok_pos], "pos_emb")], "emb_sum")
    shift = {"tok": centre("emb_tok"), "cls": np.zeros(hidden)}  # what each stream's rows are stored minus
    x = {"tok": layer_norm(emb_sum, "embeddings.LayerNorm", "emb_tok", shift["tok"]),
         "cls": node("Expand", [const("emb_cls.value", e[None, :]), cls_shape], "emb_cls")}
    heads = config["num_attention_heads"]
    for n in range(layers):
        p = f"encoder.layer.{n}"
        att = f"{p}.attention.self"
        ctx_centre = centre(f"l{n}_ctx_tok")  # subtracted from every value row: the context comes out centred
        padded = []
        for t in ("query", "key", "value"):
            bias = weights[f"{att}.{t}.bias"] - (ctx_centre if t == "value" else 0)
            if n == 0:  # constant [CLS] rows
                cls_qkv = node("Expand", [const(f"l0_{t}_cls.value", (e @ w(f"{att}.{t}") + bias)[None, :]),
                                          cls_shape], f"l0_{t}_cls")
            else:
                cls_qkv = linear(x["cls"], f"{att}.{t}", bias, f"l{n}_{t}_cls", shift["cls"], per_row=True)
            tok_qkv = linear(x["tok"], f"{att}.{t}", bias, f"l{n}_{t}_tok", shift["tok"], per_row=False)
            rows = node("Concat", [cls_qkv, tok_qkv, const("zero_row", np.zeros((1, hidden)))], f"l{n}_{t}_rows",
                        axis=0)
            padded.append(node("Gather", [rows, gather_map], f"l{n}_{t}"))
        ctx = node("Attention", [*padded, attn_mask], f"l{n}_ctx", q_num_heads=heads, kv_num_heads=heads)
        ctx = node("Reshape", [ctx, const("flat", [-1, hidden], np.int64)], f"l{n}_ctx_flat")
        for stream, index in (("tok", tok_rows), ("cls", cls_rows)):
            per_row = stream == "cls"
            # the context rows are stored minus ctx_centre, the [CLS] rows then minus their own centre
            extra = centre(f"l{n}_ctx_cls") - ctx_centre if per_row else np.zeros(hidden)
            c = centred(node("Gather", [ctx, index], f"l{n}_ctx_{stream}"), extra, f"l{n}_ctx_{stream}_c")
            o = f"{p}.attention.output.dense"
            # + shift[stream]: the residual added below is stored minus it
            y = linear(c, o, weights[o + ".bias"] + shift[stream], f"l{n}_attn_{stream}", ctx_centre + extra, per_row)
            mid = centre(f"l{n}_ln1_{stream}")
            x1 = layer_norm(node("Add", [y, x[stream]], f"l{n}_res1_{stream}"), f"{p}.attention.output.LayerNorm",
                            f"l{n}_ln1_{stream}", mid)
            inner = f"{p}.intermediate.dense"
            h = node("Gelu", [linear(x1, inner, weights[inner + ".bias"], f"l{n}_inter_{stream}", mid, per_row)],
                     f"l{n}_gelu_{stream}", approximate="tanh" if int8 else "none")
            # the token rows' GELU output is not centred: a Sub over the largest activation would cost a pass
            gelu_centre = centre(f"l{n}_gelu_cls", inner_size) if per_row else np.zeros(inner_size)
            h = centred(h, gelu_centre, f"l{n}_gelu_cls_c")
            out = f"{p}.output.dense"
            y = linear(h, out, weights[out + ".bias"] + mid, f"l{n}_out_{stream}", gelu_centre, per_row)
            last = n + 1 == layers
            shift[stream] = np.zeros(hidden) if last else centre(f"l{n}_ln2_{stream}")
            x[stream] = layer_norm(node("Add", [y, x1], f"l{n}_res2_{stream}"), f"{p}.output.LayerNorm",
                                   "cls" if last and stream == "cls" else "tokens" if last else f"l{n}_ln2_{stream}",
                                   shift[stream])

    i64 = TensorProto.INT64
    inputs = [helper.make_tensor_value_info(tok_ids, i64, ["tokens"]),
              helper.make_tensor_value_info(tok_pos, i64, ["tokens"]),
              helper.make_tensor_value_info(gather_map, i64, ["batch", "length"]),
              helper.make_tensor_value_info(attn_mask, TensorProto.BOOL, ["batch", 1, "length", "length"]),
              helper.make_tensor_value_info(tok_rows, i64, ["tokens"]),
              helper.make_tensor_value_info(cls_rows, i64, ["batch"])]
    outputs = [helper.make_tensor_value_info("cls", TensorProto.FLOAT, ["batch", hidden]),
               helper.make_tensor_value_info("tokens", TensorProto.FLOAT, ["tokens", hidden])]
    if probes:
        outputs += [helper.make_tensor_value_info(name, TensorProto.FLOAT, [name + "_rows", name + "_width"])
                    for name in probe_names(layers)]
    graph = helper.make_graph(nodes, "all-MiniLM-L6-v2", inputs, outputs, initializer=list(inits.values()))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS, 1)],
                              producer_name="rem_db")
    model.ir_version = 10
    onnx.checker.check_model(model)
    return model
