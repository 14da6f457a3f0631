"""``cnncalc conv``'s one layer as text: the output size, each axis's arithmetic, the padding
``same`` chose, the output, params and MACs (the command line, the TUI's calculator and the
Python API print the same lines)."""

from __future__ import annotations


def summary_lines(calc) -> list[str]:
    """The calculation as text: the size, each axis's arithmetic, the output, params and MACs."""
    lines = [calc.size_text]
    for a in calc.axes:
        lines.append(f"{a.label}: {a.formula} = {a.worked}")
    if calc.padding == "same":
        lines.append(f"padding 'same': {padding_text(calc)}")
    _, c_out, ho, wo = calc.output_shape
    what = "filter" if calc.op == "conv" else "channel"
    lines.append(f"output: {ho}x{wo}x{c_out} ({c_out} {what}{'s' if c_out != 1 else ''})")
    if calc.op == "conv":
        seen = calc.channels // calc.groups  # the input channels each filter reads
        if calc.groups > 1:
            per = c_out // calc.groups
            kind = "depthwise: " if calc.groups == calc.channels else ""
            lines.append(
                f"groups: {calc.groups} ({kind}each filter reads {seen} of the {calc.channels} "
                f"input channels; {per} filter{'s' if per != 1 else ''} per group)"
            )
        bias = f" + {calc.biases:,} bias{'es' if calc.biases != 1 else ''}" if calc.biases else ""
        lines.append(
            f"params: {calc.params:,} = {c_out} x ({seen} x {calc.height.kernel} x "
            f"{calc.width.kernel}) weights{bias}"
        )
        lines.append(
            f"MACs: {calc.macs:,} = {ho}x{wo} positions x {c_out} filter{'s' if c_out != 1 else ''} x "
            f"{seen * calc.height.kernel * calc.width.kernel} per output"
        )
    else:
        lines.append("params: 0; MACs: 0 (pooling multiplies nothing)")
    return lines


def padding_text(calc) -> str:
    """The padding 'same' chose, per side: ``1 on each side`` or ``top 1, bottom 2, left 1,
    right 2`` (the extra row or column goes after, as PyTorch and TensorFlow put it)."""
    h, w = calc.height, calc.width
    sides = (h.pad_before, h.pad_after, w.pad_before, w.pad_after)
    if len(set(sides)) == 1:
        return f"{sides[0]} on each side"
    return f"top {sides[0]}, bottom {sides[1]}, left {sides[2]}, right {sides[3]}"
