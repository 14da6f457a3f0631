"""``cnncalc import``: every mapped ONNX operator, built with onnx.helper, read into layers whose
output shapes are the ones onnxruntime computes when it runs the same model, and whose
parameters are counted by hand; unmappable operators listed; initializer shapes checked."""

from __future__ import annotations

import pytest

onnx = pytest.importorskip("onnx")

import numpy as np  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from cnncalc.onnx.importer import ModelError, import_model  # noqa: E402


def init(name, shape, dtype=np.float32, values=None):
    array = np.asarray(values, dtype=dtype) if values is not None else np.ones(shape, dtype=dtype)
    return numpy_helper.from_array(array.reshape(shape), name)


def model(nodes, inits=(), shape=(1, 3, 8, 8), opset=18, output="y"):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
        initializer=list(inits),
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def ort_shape(m, shape):
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    return session.run(None, {"input": x})[0].shape


def node(op, inputs, output="y", name=None, **attrs):
    return helper.make_node(op, inputs, [output], name=name or f"{op.lower()}_node", **attrs)


C = 3  # input channels of the cases
CASES = {
    # id: (nodes, initializers, input shape, opset, kinds, params by hand)
    "conv": (
        [node("Conv", ["input", "w", "b"], strides=[2, 2], pads=[1, 1, 1, 1])],
        [init("w", (8, C, 3, 3)), init("b", (8,))],
        (1, C, 9, 9),
        18,
        ["conv2d"],
        8 * C * 9 + 8,
    ),
    "conv_groups_dilations": (
        [node("Conv", ["input", "w"], group=3, dilations=[2, 2], kernel_shape=[3, 3])],
        [init("w", (6, 1, 3, 3))],
        (1, C, 9, 9),
        18,
        ["conv2d"],
        6 * 1 * 9,
    ),
    "conv_same_upper": (
        [node("Conv", ["input", "w"], strides=[2, 2], auto_pad="SAME_UPPER")],
        [init("w", (4, C, 3, 3))],
        (1, C, 9, 10),
        18,
        ["conv2d"],
        4 * C * 9,
    ),
    "conv_asymmetric_pads": (
        [node("Conv", ["input", "w"], pads=[0, 0, 1, 2])],
        [init("w", (4, C, 2, 2))],
        (1, C, 7, 7),
        18,
        ["zero_pad2d", "conv2d"],
        4 * C * 4,
    ),
    "conv_transpose": (
        [
            node(
                "ConvTranspose", ["input", "w", "b"], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]
            )
        ],
        [init("w", (C, 4, 3, 3)), init("b", (4,))],
        (1, C, 5, 6),
        18,
        ["conv_transpose2d"],
        C * 4 * 9 + 4,
    ),
    "max_pool_ceil": (
        [node("MaxPool", ["input"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)],
        [],
        (1, C, 10, 11),
        18,
        ["max_pool2d"],
        0,
    ),
    "average_pool_onnx_defaults": (  # ONNX's stride is 1 and padding is excluded from the mean
        [node("AveragePool", ["input"], kernel_shape=[2, 2], pads=[1, 1, 1, 1])],
        [],
        (1, C, 6, 6),
        18,
        ["avg_pool2d"],
        0,
    ),
    "global_average_pool": (
        [node("GlobalAveragePool", ["input"])],
        [],
        (2, C, 5, 7),
        18,
        ["global_avg_pool2d"],
        0,
    ),
    "gemm_after_flatten": (
        [node("Flatten", ["input"], "f", axis=1), node("Gemm", ["f", "w", "b"], transB=1)],
        [init("w", (10, C * 4 * 4)), init("b", (10,))],
        (2, C, 4, 4),
        18,
        ["flatten", "linear"],
        10 * C * 16 + 10,
    ),
    "gemm_untransposed_no_bias": (
        [node("Flatten", ["input"], "f"), node("Gemm", ["f", "w"])],
        [init("w", (C * 4, 5))],
        (2, C, 2, 2),
        18,
        ["flatten", "linear"],
        C * 4 * 5,
    ),
    "matmul_add": (  # nn.Linear on a rank-3 input
        [node("MatMul", ["input", "w"], "m"), node("Add", ["m", "b"])],
        [init("w", (16, 7)), init("b", (7,))],
        (1, 5, 16),
        18,
        ["linear"],
        16 * 7 + 7,
    ),
    "batch_norm": (
        [node("BatchNormalization", ["input", "s", "b", "m", "v"], epsilon=1e-3)],
        [init("s", (C,)), init("b", (C,)), init("m", (C,)), init("v", (C,))],
        (1, C, 4, 4),
        18,
        ["batch_norm2d"],
        2 * C,
    ),
    "lrn": (
        [node("LRN", ["input"], size=5, alpha=1e-4, beta=0.75, bias=2.0)],
        [],
        (1, 7, 3, 3),
        18,
        ["local_response_norm"],
        0,
    ),
    "relu": ([node("Relu", ["input"])], [], (1, C, 4, 4), 18, ["relu"], 0),
    "clip_relu6": (
        [node("Clip", ["input", "lo", "hi"])],
        [init("lo", (), values=0.0), init("hi", (), values=6.0)],
        (1, C, 4, 4),
        18,
        ["relu6"],
        0,
    ),
    "leaky_relu": ([node("LeakyRelu", ["input"], alpha=0.2)], [], (1, C, 4, 4), 18, ["leaky_relu"], 0),
    "sigmoid": ([node("Sigmoid", ["input"])], [], (1, C, 4, 4), 18, ["sigmoid"], 0),
    "hard_sigmoid": (
        [node("HardSigmoid", ["input"], alpha=1 / 6, beta=0.5)],
        [],
        (1, C, 4, 4),
        18,
        ["hardsigmoid"],
        0,
    ),
    "hard_swish": ([node("HardSwish", ["input"])], [], (1, C, 4, 4), 18, ["hardswish"], 0),
    "tanh": ([node("Tanh", ["input"])], [], (1, C, 4, 4), 18, ["tanh"], 0),
    "softmax": ([node("Softmax", ["input"], axis=1)], [], (2, 10), 18, ["softmax"], 0),
    "dropout": (
        [node("Dropout", ["input", "r"])],
        [init("r", (), values=0.3)],
        (1, C, 4, 4),
        18,
        ["dropout"],
        0,
    ),
    "identity": ([node("Identity", ["input"])], [], (1, C, 4, 4), 18, ["identity"], 0),
    "residual_add": (
        [node("Conv", ["input", "w"], "c", pads=[1, 1, 1, 1]), node("Add", ["c", "input"])],
        [init("w", (C, C, 3, 3))],
        (1, C, 5, 5),
        18,
        ["conv2d", "add"],
        C * C * 9,
    ),
    "gate_mul": (
        [node("Sigmoid", ["input"], "s"), node("Mul", ["input", "s"])],
        [],
        (1, C, 4, 4),
        18,
        ["sigmoid", "multiply"],
        0,
    ),
    "concat": (
        [
            node("Conv", ["input", "w1"], "a", name="conv1"),
            node("Conv", ["input", "w2"], "b", name="conv2"),
            node("Concat", ["a", "b"], axis=1),
        ],
        [init("w1", (2, C, 1, 1)), init("w2", (5, C, 1, 1))],
        (1, C, 4, 4),
        18,
        ["conv2d", "conv2d", "concat"],
        2 * C + 5 * C,
    ),
    "split_halves": (
        [
            helper.make_node("Split", ["input", "sizes"], ["a", "b"], axis=1, name="split"),
            node("Relu", ["b"], "r"),
            node("Concat", ["a", "r"], axis=1),
        ],
        [init("sizes", (2,), np.int64, [2, 2])],
        (1, 4, 3, 3),
        18,
        ["chunk", "chunk", "relu", "concat"],
        0,
    ),
    "reshape_flatten": (
        [node("Reshape", ["input", "t"])],
        [init("t", (2,), np.int64, [0, -1])],
        (2, C, 4, 4),
        18,
        ["flatten"],
        0,
    ),
    "channel_shuffle": (
        [
            node("Reshape", ["input", "t1"], "r1"),
            node("Transpose", ["r1"], "t", perm=[0, 2, 1, 3, 4]),
            node("Reshape", ["t", "t2"], name="shuffle"),
        ],
        [init("t1", (5,), np.int64, [1, 2, 3, 4, 4]), init("t2", (4,), np.int64, [1, 6, 4, 4])],
        (1, 6, 4, 4),
        18,
        ["channel_shuffle"],
        0,
    ),
    "reduce_mean_keepdims": (
        [node("ReduceMean", ["input", "axes"], keepdims=1)],
        [init("axes", (2,), np.int64, [2, 3])],
        (2, C, 5, 5),
        18,
        ["global_avg_pool2d"],
        0,
    ),
    "reduce_mean_opset13": (
        [node("ReduceMean", ["input"], axes=[-2, -1], keepdims=0)],
        [],
        (2, C, 5, 5),
        13,
        ["global_avg_pool2d", "flatten"],
        0,
    ),
    "resize_nearest": (
        [node("Resize", ["input", "", "sc"], mode="nearest")],
        [init("sc", (4,), values=[1, 1, 2, 3])],
        (1, C, 4, 4),
        18,
        ["upsample"],
        0,
    ),
    "resize_bilinear_sizes": (
        [node("Resize", ["input", "", "", "sz"], mode="linear", axes=[2, 3])],
        [init("sz", (2,), np.int64, [7, 9])],
        (1, C, 4, 4),
        18,
        ["upsample"],
        0,
    ),
    "upsample_opset9": (
        [node("Upsample", ["input", "sc"], mode="nearest")],
        [init("sc", (4,), values=[1, 1, 2, 2])],
        (1, C, 3, 3),
        9,
        ["upsample"],
        0,
    ),
    "pad": (
        [node("Pad", ["input", "p"], mode="constant")],
        [init("p", (8,), np.int64, [0, 0, 1, 2, 0, 0, 3, 4])],
        (1, C, 4, 4),
        18,
        ["zero_pad2d"],
        0,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_operator_imports_at_onnxruntime_shape(case):
    nodes, inits, shape, opset, kinds, params = CASES[case]
    m = model(nodes, inits, shape, opset)
    imported = import_model(m, source=f"{case}.onnx")
    a = imported.analysis
    assert [r.kind for r in a.layers] == kinds
    assert tuple(a.output_shape) == ort_shape(m, shape)
    assert a.totals.params == params


def test_the_spec_is_readable_and_keeps_the_graph():
    nodes, inits, shape, opset, _, _ = CASES["residual_add"]
    text = import_model(model(nodes, inits, shape, opset), source="res.onnx").text
    assert text.startswith("# Imported by cnncalc from res.onnx: ONNX opset 18")
    assert "  - conv2d: {out: 3, kernel: 3, padding: 1, bias: false, name: conv_node}\n" in text
    assert "  - add: {inputs: [conv_node, input], name: add_node}\n" in text


def test_pytorch_scope_names_become_dotted_layer_names():
    n = helper.make_node("Relu", ["input"], ["y"], name="/layer1/layer1.0/relu/Relu")
    text = import_model(model([n], shape=(1, 2, 3, 3)), source="m.onnx").text
    assert "  - relu: {name: layer1.0.relu}\n" in text


def test_dynamic_dims_and_symbols():
    nodes, inits = CASES["conv"][:2]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", C, 9, 9])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=8)
    imported = import_model(m, source="m.onnx", symbols="H,W")
    assert "input: [batch, 3, H, W]" in imported.text
    assert imported.spec.symbols["H"].default == 9
    assert imported.spec.symbols["batch"].default is None
    # 8 filters of 3x3x3 over a 5x5 output (stride 2, padding 1 on 9x9), per sample.
    assert str(imported.analysis.totals.macs) == str(8 * 27 * 25) + "*batch"
    # One dim_param on two axes is one symbol: a square input of any side.
    m.graph.input[0].CopyFrom(helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, C, "S", "S"]))
    imported = import_model(m, source="m.onnx")
    assert "input: [1, 3, S, S]" in imported.text
    from cnncalc.core.engine import evaluate_at

    macs = imported.analysis.totals.macs
    # 216 MACs per output pixel of a stride-2, padding-1 3x3 window: 5x5 at 9 and 10, 6x6 at 11.
    assert [evaluate_at(macs, {"S": s}) for s in (9, 10, 11)] == [216 * 25, 216 * 25, 216 * 36]


def test_unmappable_operators_are_listed_by_type_with_counts():
    nodes = [
        node("Conv", ["input", "w"], "c"),
        helper.make_node("Erf", ["c"], ["e1"], name="erf1"),
        helper.make_node("Erf", ["e1"], ["e2"], name="erf2"),
        node("Relu", ["e2"]),
    ]
    m = model(nodes, [init("w", (2, 3, 1, 1, 1))], shape=(1, 3, 4, 4, 4))
    with pytest.raises(ModelError, match=r"3 nodes of 2 operator types have no layer kind") as info:
        import_model(m, source="m.onnx")
    message = str(info.value)
    assert "Erf x2 (erf1, erf2): no layer kind stands for it" in message
    assert "Conv x1 (conv_node): a 3-D convolution" in message
    # the list is by count; the node that stops the import first is named apart
    assert ". The first in the graph's order: conv_node (Conv): a 3-D convolution" in message


def test_a_product_of_computed_tensors_is_a_matmul_counted_exactly():
    """Attention multiplies two tensors the model computes (queries by keys): a ``matmul``
    layer, whose MACs are the product's."""
    nodes = [
        helper.make_node("Relu", ["input"], ["q"], name="q"),
        helper.make_node("Relu", ["input"], ["k"], name="k"),
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2], name="kt"),
        helper.make_node("MatMul", ["q", "kt"], ["scores"], name="attention"),
        helper.make_node("Relu", ["scores"], ["y"], name="out"),
    ]
    imported = import_model(model(nodes, [], shape=(2, 3, 5, 4)), source="m.onnx")
    (product,) = [r for r in imported.analysis.layers if r.kind == "matmul"]
    assert product.output_shape == (2, 3, 5, 5)
    # 2 x 3 stacked products of (5 x 4) by (4 x 5): 25 outputs of 4 multiply-accumulates each
    assert product.macs == 2 * 3 * (5 * 5) * 4
    assert imported.analysis.totals.macs == 600


def test_an_einsum_that_is_a_batched_product_is_a_matmul():
    """MaxViT's ``B G H I D, B G H J D -> B G H I J``: the second operand's last two axes
    swapped (a ``permute``), then a ``matmul``; another Einsum is refused, saying which."""
    nodes = [
        helper.make_node("Relu", ["input"], ["q"], name="q"),
        helper.make_node("Einsum", ["q", "q"], ["scores"], equation="bhid,bhjd->bhij", name="scores"),
    ]
    imported = import_model(model(nodes, [], shape=(2, 3, 5, 4)), source="m.onnx")
    assert [r.kind for r in imported.analysis.layers] == ["relu", "permute", "matmul"]
    # 2 x 3 products of (5 x 4) by (4 x 5): 25 outputs of 4 multiply-accumulates each
    assert imported.analysis.totals.macs == 2 * 3 * 25 * 4
    assert imported.analysis.output_shape == (2, 3, 5, 5)
    nodes[1] = helper.make_node("Einsum", ["q", "q"], ["s"], equation="bhid,bhid->bh", name="sums")
    with pytest.raises(
        ModelError, match=r"Einsum x1 \(sums\): an Einsum 'bhid,bhid->bh' that is not a batched"
    ):
        import_model(model(nodes, [], shape=(1, 3, 4, 4)), source="m.onnx")


def test_an_initializer_of_the_wrong_shape_names_the_node():
    nodes = [node("BatchNormalization", ["input", "s", "b", "m", "v"])]
    inits = [init("s", (4,)), init("b", (3,)), init("m", (3,)), init("v", (3,))]
    with pytest.raises(
        ModelError, match=r"node 'batchnormalization_node' .*'s' has shape \[4\], but batch_norm2d"
    ):
        import_model(model(nodes, inits), source="m.onnx")
    nodes = [node("Conv", ["input", "w", "b"])]
    with pytest.raises(ModelError, match=r"node 'conv_node' \(Conv\): 'b' has shape \[5\], but conv2d bias"):
        import_model(model(nodes, [init("w", (4, 3, 1, 1)), init("b", (5,))]), source="m.onnx")


@pytest.mark.parametrize(
    ("nodes", "inits", "message"),
    [
        # ONNX allows axes -4 to 3 of a rank-4 tensor: 100 wrapped around would read axis 0
        (
            [node("Softmax", ["input"], axis=100)],
            [],
            r"axis 100 is outside its rank-4 input \(ONNX allows -4 to 3\)",
        ),
        ([node("Concat", ["input", "input"], axis=-5)], [], r"axis -5 is outside its rank-4 input"),
        (
            [helper.make_node("Split", ["input"], ["y"], axis=1, num_outputs=0, name="s")],
            [],
            r"num_outputs is 0",
        ),
        (
            [node("BatchNormalization", ["input", "s", "b", "m", "v"], epsilon=float("nan"))],
            [init(k, (3,)) for k in "sbmv"],
            r"epsilon nan is not a finite number",
        ),
    ],
    ids=["softmax-axis", "concat-axis", "split-outputs", "epsilon-nan"],
)
def test_what_breaks_onnx_s_own_rules_is_refused_not_reinterpreted(nodes, inits, message):
    with pytest.raises(ModelError, match=message):
        import_model(model(nodes, inits), source="m.onnx")


def test_dynamo_name_scopes_become_module_names():
    def scoped(op, inputs, output, scopes, classes):
        n = helper.make_node(op, inputs, [output], name=f"node_{output}")
        helper.set_metadata_props(
            n, {"pkg.torch.onnx.name_scopes": repr(scopes), "pkg.torch.onnx.class_hierarchy": repr(classes)}
        )
        return n

    nodes = [
        # a torch.nn.ReLU module called as layer1.0.relu
        scoped("Relu", ["input"], "r", ["", "layer1", "layer1.0", "layer1.0.relu", "relu"],
               ["ResNet", "BasicBlock", "torch.nn.modules.activation.ReLU", "aten.relu.default"]),
        # an addition in BasicBlock.forward
        scoped("Add", ["r", "input"], "y", ["", "layer1", "layer1.0", "add"],
               ["ResNet", "Sequential", "torchvision.models.resnet.BasicBlock", "aten.add.Tensor"]),
    ]  # fmt: skip
    text = import_model(model(nodes, shape=(1, 2, 3, 3)), source="m.onnx").text
    assert "  - relu: {name: layer1.0.relu}\n" in text
    assert "  - add: {inputs: [layer1.0.relu, input], name: layer1.0.add}\n" in text


def test_a_reshape_to_batch_and_features_is_a_flatten_when_the_count_is_right():
    def reshaped(features):
        nodes = [node("Reshape", ["input", "t"])]
        return model(nodes, [init("t", (2,), np.int64, [2, features])], shape=(2, 3, 4, 4))

    a = import_model(reshaped(48), source="m.onnx").analysis
    assert [r.kind for r in a.layers] == ["flatten"] and tuple(a.output_shape) == (2, 48)
    with pytest.raises(
        ModelError, match=r"node 'reshape_node' \(Reshape\): the model makes axis 1 24, but flatten"
    ):
        import_model(reshaped(24), source="m.onnx")
