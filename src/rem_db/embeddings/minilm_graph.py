"""Build an ONNX graph of all-MiniLM-L6-v2 (a 6-layer BERT) straight from its safetensors weights.

No torch: the graph is written op by op with ``onnx.helper`` from the installed weights. Inputs are
``input_ids`` and ``attention_mask`` (int64, batch x length); the output ``embeddings`` is the
mean-pooled, L2-normalised sentence vector (batch x 384), as sentence-transformers computes it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

OPSET = 17


def build_model(model_dir: Path):  # -> onnx.ModelProto
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file

    config = json.loads((model_dir / "config.json").read_text())
    weights = load_file(str(model_dir / "model.safetensors"))
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    head_dim = hidden // heads
    eps = float(config["layer_norm_eps"])

    nodes: list = []
    inits: list = []

    def const(name: str, array: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: object) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def linear(x: str, prefix: str, out: str) -> str:
        w = const(f"{prefix}.weight_t", weights[f"{prefix}.weight"].T.astype(np.float32))
        b = const(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return node("Add", [node("MatMul", [x, w], f"{out}_mm"), b], out)

    def layer_norm(x: str, prefix: str, out: str) -> str:
        g = const(f"{prefix}.weight", weights[f"{prefix}.weight"])
        b = const(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return node("LayerNormalization", [x, g, b], out, axis=-1, epsilon=eps)

    # embeddings: word + position + token type 0, then LayerNorm
    word = const("word_embeddings", weights["embeddings.word_embeddings.weight"])
    pos_table = const("position_embeddings", weights["embeddings.position_embeddings.weight"])
    type0 = const("token_type0", weights["embeddings.token_type_embeddings.weight"][0])
    seq_len = node("Shape", ["input_ids"], "seq_len", start=1, end=2)  # 1-D: [length]
    zero = const("zero_1d", np.array([0], dtype=np.int64))
    pos_emb = node("Slice", [pos_table, zero, seq_len, zero], "pos_emb")
    x = node("Add", [node("Gather", [word, "input_ids"], "word_emb"), pos_emb], "emb_sum")
    x = node("Add", [x, type0], "emb_typed")
    x = layer_norm(x, "embeddings.LayerNorm", "emb_out")

    # attention mask -> additive bias (batch, 1, 1, length)
    mask_f = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    mask_4d = node("Unsqueeze", [mask_f, const("axes_12", np.array([1, 2], dtype=np.int64))], "mask_4d")
    inverted = node("Sub", [const("one_f", np.array(1.0, dtype=np.float32)), mask_4d], "mask_inv")
    bias = node("Mul", [inverted, const("neg_big", np.array(-10000.0, dtype=np.float32))], "mask_bias")

    split_shape = const("split_heads", np.array([0, -1, heads, head_dim], dtype=np.int64))
    merge_shape = const("merge_heads", np.array([0, -1, hidden], dtype=np.int64))
    scale = const("attn_scale", np.array(1.0 / np.sqrt(head_dim), dtype=np.float32))
    sqrt_half = const("sqrt_half", np.array(1.0 / np.sqrt(2.0), dtype=np.float32))
    half = const("half", np.array(0.5, dtype=np.float32))
    one = const("one_f_gelu", np.array(1.0, dtype=np.float32))

    for n in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{n}"
        q = linear(x, f"{p}.attention.self.query", f"l{n}_q")
        k = linear(x, f"{p}.attention.self.key", f"l{n}_k")
        v = linear(x, f"{p}.attention.self.value", f"l{n}_v")
        q = node("Transpose", [node("Reshape", [q, split_shape], f"l{n}_q4")], f"l{n}_qt", perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [k, split_shape], f"l{n}_k4")], f"l{n}_kt", perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [v, split_shape], f"l{n}_v4")], f"l{n}_vt", perm=[0, 2, 1, 3])
        scores = node("Mul", [node("MatMul", [q, k], f"l{n}_qk"), scale], f"l{n}_scaled")
        probs = node("Softmax", [node("Add", [scores, bias], f"l{n}_masked")], f"l{n}_probs", axis=-1)
        ctx = node("Transpose", [node("MatMul", [probs, v], f"l{n}_ctx4")], f"l{n}_ctxt", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, merge_shape], f"l{n}_ctx")
        attn = linear(ctx, f"{p}.attention.output.dense", f"l{n}_attn")
        x = layer_norm(node("Add", [attn, x], f"l{n}_res1"), f"{p}.attention.output.LayerNorm", f"l{n}_ln1")
        inter = linear(x, f"{p}.intermediate.dense", f"l{n}_inter")
        erf = node("Erf", [node("Mul", [inter, sqrt_half], f"l{n}_gelu_in")], f"l{n}_erf")
        gelu = node("Mul", [node("Mul", [inter, half], f"l{n}_half"),
                            node("Add", [erf, one], f"l{n}_erf1")], f"l{n}_gelu")
        out = linear(gelu, f"{p}.output.dense", f"l{n}_out")
        x = layer_norm(node("Add", [out, x], f"l{n}_res2"), f"{p}.output.LayerNorm", f"l{n}_ln2")

    # mean pooling over the mask, then L2 normalisation
    mask_3d = node("Unsqueeze", [mask_f, const("axis_2", np.array([2], dtype=np.int64))], "mask_3d")
    summed = node("ReduceSum", [node("Mul", [x, mask_3d], "masked_tokens"),
                                const("axis_1", np.array([1], dtype=np.int64))], "token_sum", keepdims=0)
    counts = node("ReduceSum", [mask_3d, "axis_1"], "token_count", keepdims=0)
    counts = node("Max", [counts, const("min_count", np.array(1e-9, dtype=np.float32))], "token_count_safe")
    pooled = node("Div", [summed, counts], "pooled")
    norm = node("ReduceL2", [pooled], "pooled_norm", axes=[1], keepdims=1)
    norm = node("Max", [norm, const("min_norm", np.array(1e-12, dtype=np.float32))], "pooled_norm_safe")
    node("Div", [pooled, norm], "embeddings")

    graph = helper.make_graph(
        nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "length"])],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", hidden])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="rem_db")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
