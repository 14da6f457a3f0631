"""Max and average pooling over windows (PyTorch semantics, ceil mode included)."""

from __future__ import annotations

from ..core import dims
from ._base import (
    WHOLE,
    Check,
    Layer,
    NonNegPair,
    Pair,
    Shape,
    Window,
    at_least,
    rank_error,
    same_dims,
    shape_text,
)
from ._registry import register
from .conv2d import conv_windows, padded_checks


class _Pool2d(Layer):
    kernel: Pair
    stride: Pair | None = None
    padding: NonNegPair = 0
    ceil_mode: bool = False

    @property
    def strides(self):
        """The stride, which defaults to the kernel size."""
        return self.stride if self.stride is not None else self.kernel

    def checks(self, x: Shape) -> list[Check]:
        if len(x) != 4:
            raise rank_error(self, "an input (N, C, H, W)", x)
        out = [
            at_least(
                dims.floordiv(k, 2),
                p,
                lambda p=p, k=k: f"padding {dims.fmt(p)} must be at most half the kernel size {dims.fmt(k)}",
            )
            for k, p in zip(self.kernel, self.padding, strict=True)
        ]
        pads = tuple((p, p) for p in self.padding)
        if not self.ceil_mode:
            return out + padded_checks("window", x, self.kernel, self._dilation(), pads)
        return out + self._ceil_checks(x)

    def _ceil_checks(self, x: Shape) -> list[Check]:
        """In ceil mode PyTorch needs one output, not a fitting window: the rounded-up count
        ``ceil((padded - eff)/stride) + 1`` is at least 1 when ``padded + stride - 1 >= eff``
        (its correction only removes a window when there are two or more)."""
        out = []
        for axis, size, k, s, p, d in zip(
            ("height", "width"), x[2:], self.kernel, self.strides, self.padding, self._dilation(), strict=True
        ):
            eff = dims.add(dims.mul(d, dims.add(k, -1)), 1)
            reach = dims.add(size, p, p, s, -1)

            def describe(axis=axis, reach=reach, eff=eff) -> str:
                return (
                    f"ceil mode needs one window along the {axis}: the padded input {axis} plus "
                    f"stride - 1, {dims.fmt(reach)}, must reach the window {dims.fmt(eff)}"
                )

            out.append(at_least(reach, eff, describe))
        return out

    def windows(self, x: Shape) -> tuple[Window, Window]:
        pads = tuple((p, p) for p in self.padding)
        return conv_windows(x, self.kernel, self.strides, self._dilation(), pads)

    def _onnx_window(self, g) -> dict:
        ph, pw = self.padding
        return {
            "kernel_shape": g.ints(self.kernel),
            "strides": g.ints(self.strides),
            "pads": g.ints((ph, pw, ph, pw)),
            "ceil_mode": int(self.ceil_mode),
        }

    def _dilation(self):
        """Window dilation (average pooling has none)."""
        return getattr(self, "dilation", (1, 1))

    def lints(self, x: Shape, *, out: Shape) -> list[str]:
        ones = all(v == 1 for v in (*self.kernel, *self.strides))
        if ones and same_dims(x, out):
            return [f"has no effect: its output is its input {shape_text(x)} (kernel 1, stride 1)"]
        return []

    def output_shape(self, x: Shape) -> Shape:
        spatial = tuple(
            dims.window_out(size, k, s, p, p, d, self.ceil_mode)
            for size, k, s, p, d in zip(
                x[2:], self.kernel, self.strides, self.padding, self._dilation(), strict=True
            )
        )
        return (x[0], x[1], *spatial)


def _pool_examples(kind: str, dilation: bool):
    from hypothesis import strategies as st

    from ..strategies import Case, windows

    @st.composite
    def build(draw):
        geometry = windows(max_dilation=2 if dilation else 1, pad_limit=lambda k: k // 2)
        h, w = draw(geometry), draw(geometry)
        ceil_mode = draw(st.booleans())
        args = {
            "kernel": [h.kernel, w.kernel],
            "stride": [h.stride, w.stride],
            "padding": [h.pad, w.pad],
            "ceil_mode": ceil_mode,
        }
        if dilation:
            args["dilation"] = [h.dilation, w.dilation]
        else:
            args["count_include_pad"] = draw(st.booleans())
        n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
        # Built for floor mode; ceil mode's sizes are checked by the kernel's own arithmetic.
        expected = None if ceil_mode else (n, c, h.out, w.out)
        return Case({kind: args}, (n, c, h.size, w.size), expected)

    return build()


@register
class MaxPool2d(_Pool2d):
    """Maximum over each window of (N, C, H, W); output as for a convolution of that window.

    H_out = floor((H + 2*padding - dilation*(kernel - 1) - 1) / stride) + 1 (rounded up with
    ``ceil_mode``, the last window starting inside the input or its leading padding).
    Params: none. MACs: 0.
    FLOPs: N*C*H_out*W_out*(kh*kw - 1) comparisons.
    """

    kind = "max_pool2d"
    prefix = "maxpool"

    dilation: Pair = 1

    @classmethod
    def examples(cls):
        return _pool_examples(cls.kind, dilation=True)

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.mul(dims.prod(out), dims.add(dims.mul(*self.kernel), -1))

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        g.final("MaxPool", [g.inputs[0]], {**self._onnx_window(g), "dilations": g.ints(self.dilation)})

    def forward(self, xs, weights, out) -> int:
        from ..kernels.pool import max_pool2d_nchw

        return max_pool2d_nchw(
            xs[0], out, self.kernel, self.strides, self.padding, self.dilation, self.ceil_mode
        )


@register
class AvgPool2d(_Pool2d):
    """Mean over each window of (N, C, H, W); output as for a convolution of that window.

    H_out = floor((H + 2*padding - kernel) / stride) + 1 (rounded up with ``ceil_mode``).
    ``count_include_pad`` divides by the whole window, padding included (PyTorch's default).
    Params: none. MACs: 0.
    FLOPs: N*C*H_out*W_out*kh*kw (kh*kw - 1 additions and one division per output).
    """

    kind = "avg_pool2d"
    prefix = "avgpool"

    count_include_pad: bool = True

    @classmethod
    def examples(cls):
        return _pool_examples(cls.kind, dilation=False)

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.mul(dims.prod(out), *self.kernel)

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        attrs = {**self._onnx_window(g), "count_include_pad": int(self.count_include_pad)}
        g.final("AveragePool", [g.inputs[0]], attrs)

    def forward(self, xs, weights, out) -> int:
        from ..kernels.pool import avg_pool2d_nchw

        return avg_pool2d_nchw(
            xs[0], out, self.kernel, self.strides, self.padding, self.ceil_mode, self.count_include_pad
        )


@register
class AdaptiveAvgPool2d(Layer):
    """Mean over adaptive bins giving a fixed output size (PyTorch's bins).

    Output: (N, C, out_h, out_w); bin i spans floor(i*H/out_h) to ceil((i+1)*H/out_h).
    Params: none. MACs: 0.
    FLOPs: N*C*(H*W + out_h*out_w): one addition per input element and one division per output
    (exact when the bins tile the input; overlapping bins re-read some elements, not counted).
    """

    kind = "adaptive_avg_pool2d"
    prefix = "avgpool"

    output: Pair

    @classmethod
    def examples(cls):
        from hypothesis import strategies as st

        from ..strategies import Case, shapes

        return st.builds(
            lambda x, oh, ow: Case({cls.kind: {"output": [oh, ow]}}, x, (x[0], x[1], oh, ow)),
            shapes(),
            st.integers(1, 5),
            st.integers(1, 5),
        )

    def checks(self, x: Shape) -> list[Check]:
        if len(x) != 4:
            raise rank_error(self, "an input (N, C, H, W)", x)
        return []

    def output_shape(self, x: Shape) -> Shape:
        return (x[0], x[1], *self.output)

    def windows(self, x: Shape) -> tuple[Window, Window]:
        """Bins of ``size/out`` when they tile the axis; the widest bin when the sizes are known
        and do not divide; the whole axis otherwise (one bin, or open sizes)."""
        return tuple(_adaptive_window(size, out) for size, out in zip(x[2:], self.output, strict=True))

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.add(dims.prod(x), dims.prod(out))

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        """GlobalAveragePool for a 1x1 output; AveragePool when the bins tile the input evenly
        (window = stride = input / output); other sizes have no ONNX operator."""
        if all(dims.is_concrete(o) and o == 1 for o in self.output):
            g.final("GlobalAveragePool", [g.inputs[0]], {})
            return
        sizes, outs = g.ints(x[2:]), g.ints(self.output)
        if any(s % o for s, o in zip(sizes, outs, strict=True)):
            g.refuse(
                f"adaptive_avg_pool2d from {sizes[0]}x{sizes[1]} to {outs[0]}x{outs[1]}: its bins "
                f"overlap, and ONNX pools have one window size (sizes that divide evenly lower to "
                f"AveragePool)"
            )
        kernel = [s // o for s, o in zip(sizes, outs, strict=True)]
        g.final("AveragePool", [g.inputs[0]], {"kernel_shape": kernel, "strides": kernel})

    def forward(self, xs, weights, out) -> int:
        from ..kernels.pool import adaptive_avg_pool2d_nchw

        return adaptive_avg_pool2d_nchw(xs[0], out)


@register
class GlobalAvgPool2d(Layer):
    """Mean over all of H and W: (N, C, H, W) to (N, C, 1, 1), as adaptive_avg_pool2d to 1x1.

    Params: none. MACs: 0.
    FLOPs: N*C*(H*W + 1), counted as adaptive_avg_pool2d counts: one addition per input element
    and one division per output.
    """

    kind = "global_avg_pool2d"
    prefix = "avgpool"

    @classmethod
    def examples(cls):
        from ..strategies import Case, shapes

        return shapes().map(lambda x: Case({cls.kind: None}, x, (x[0], x[1], 1, 1)))

    def checks(self, x: Shape) -> list[Check]:
        if len(x) != 4:
            raise rank_error(self, "an input (N, C, H, W)", x)
        return []

    def output_shape(self, x: Shape) -> Shape:
        return (x[0], x[1], 1, 1)

    def windows(self, x: Shape) -> tuple[Window, Window]:
        return (WHOLE, WHOLE)

    def flops(self, x: Shape, *, out: Shape) -> dims.Dim:
        return dims.add(dims.prod(x), dims.prod(out))

    def to_onnx(self, g, x: Shape, *, out: Shape) -> None:
        g.final("GlobalAveragePool", [g.inputs[0]], {})

    def forward(self, xs, weights, out) -> int:
        from ..kernels.pool import adaptive_avg_pool2d_nchw

        return adaptive_avg_pool2d_nchw(xs[0], out)


def _adaptive_window(size, out) -> Window:
    """Bin ``i`` spans ``floor(i*size/out)`` to ``ceil((i+1)*size/out) - 1``."""
    if dims.is_concrete(out) and out == 1:
        return WHOLE
    if not (dims.is_concrete(size) and dims.is_concrete(out)):
        return WHOLE
    if size % out == 0:
        return Window(size // out, size // out, 0)
    widest = max(-(-(i + 1) * size // out) - (i * size) // out for i in range(out))
    return Window(widest, dims.div(size, out), 0)
