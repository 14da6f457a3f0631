"""Hypothesis strategies of hostile spec files: mutations of the bundled specs, and specs built
from a small grammar whose values include the spellings and sizes that broke cnncalc before.

Every strategy draws the text of a file (``str``), as a user would write it.
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

from ..helpers import all_specs

# Values a number or an expression may be: ordinary, large, tiny, ambiguous, or outright wrong.
ORDINARY = [
    "1",
    "2",
    "3",
    "4",
    "8",
    "16",
    "64",
    "0",
    "-1",
    "H",
    "W",
    "C",
    '"H//2"',
    '"2*C"',
    '"ceil(C*alpha)"',
]
# The expression language's newer operators: conditionals, comparisons, and/or/not, roots.
CONDITIONAL = [
    '"4 if H > 16 else 2"',
    '"H//2 if H % 2 == 0 else H"',
    '"8 if H >= 32 and W >= 32 else 4"',
    '"2 if not H < 10 else 3"',
    '"3 if H == 7 or W != 9 else 1"',
    '"(1 if H > 3 else 2) + (1 if H > 5 else 0)"',
    '"(2 if H < 8 else 3) if C > 2 else 1"',
    '"max(1, 40 - H)"',
    '"H % 5 + 1"',
    '"floor(H*2**(1/2))"',
    '"ceil(8*2**(1/2))"',
    '"(9/4)**(1/2)"',
    '"floor(3**(1/3)*W)"',
]
HOSTILE = [
    "0",
    "-1",
    "010",
    "0b101",
    "0x1F",
    "1:20",
    "yes",
    "off",
    "8.0000000000000000001",
    "0.3333333333333333333333",
    "1e400",
    ".nan",
    "-.inf",
    "~",
    "[]",
    "{}",
    "[1, 2, 3]",
    "1" + "0" * 100,
    "9" * 200,
    '"10**64"',
    '"10**100"',
    '"(1/7)**64"',
    '"ceil(((1/7)**64)**64)"',
    '"(H+W+C+1)**64 // 2"',
    '"(H+W)**9"',
    '"H**-3"',
    '"1/(H-H)"',
    '"H % 0"',
    '"max()"',
    '"floor(H/2) - H"',
    "\"__import__('os')\"",
    '"0x10 + 1"',
    '"' + "(" * 60 + "1" + ")" * 60 + '"',
    '"\\e[31m"',
    '"a\\u202eb"',
    "'[/]'",
    '"H**(1/2)"',
    '"2**(1/2)"',
    '"1 if 2**(1/2) > 7/5 else 0"',
    '"1 if H > 1e400 else 2"',
    '"(((((1 if H > 1 else 2) if H > 2 else 3) if H > 3 else 4) if H > 4 else 5) if H > 5 else 6)"',
]
VALUES = ORDINARY * 3 + CONDITIONAL + HOSTILE
# Symbols: mostly ordinary, sometimes hostile.
SYMBOL_CHOICES = {
    "N": ["1", "null", "{default: 2, min: 1}"],
    "H": ["32", "null", "{default: 64, min: 8}", "7"],
    "W": ["32", "16", "null"],
    "C": ["3", "null", "16"],
    "alpha": ["{default: 1, type: rational}", "{default: 0.75, type: rational}", "null"],
}
HOSTILE_SYMBOLS = {
    "N": ["0", "-1", "yes"],
    "H": ["{default: 8, max: 4}", "010", "{min: 0}", "1e400", "9" * 130],
    "W": ["1:20", "0b11", ".inf"],
    "C": ["0.5", '"\\e[1m"'],
    "alpha": ["{default: 0.3333333333333333333333, type: rational}", "{type: float}"],
}

SPEC_NAMES = ["net", "'[bold]x'", "'[/]'", "a|b"]
HOSTILE_NAMES = ['"\\e[2J"', "1.5", "yes", '"' + "n" * 5000 + '"']
KINDS_ONE = ["relu", "tanh", "sigmoid", "flatten", "identity", "batch_norm2d", "dropout", "softmax"]


@st.composite
def layer(draw, depth: int = 0, blocks: tuple[str, ...] = (), values: tuple[str, ...] = tuple(VALUES)) -> str:
    """One entry of a ``layers`` list, in flow style, its numbers drawn from ``values``."""
    value = st.sampled_from(values)
    choice = draw(st.integers(0, 10 if depth < 2 else 6))
    meta = ""
    if draw(st.integers(0, 5)) == 0:
        repeats = ["2", "0", "3", "20000", "100000", "H", "-1", "1.5", "'4**(1/2)'", "'2**(1/2)'"]
        meta += f", repeat: {draw(st.sampled_from(repeats))}"
    if draw(st.integers(0, 7)) == 0:
        whens = ["0", "1", "H", "1/2", "'H > 16'", "'2**(1/2)'", "'H % 2 == 0 and W > 8'"]
        meta += f", when: {draw(st.sampled_from(whens))}"
    if draw(st.integers(0, 9)) == 0:
        meta += f", name: {draw(st.sampled_from(['a', 'input', 'x.y', '[/]', 'conv1', '010']))}"
    if choice == 0:
        return draw(st.sampled_from(KINDS_ONE))
    if choice <= 2:
        args = f"out: {draw(value)}, kernel: {draw(value)}"
        for key in ("stride", "padding", "dilation", "groups"):
            if draw(st.booleans()):
                args += f", {key}: {draw(value)}"
        return f"{{conv2d: {{{args}{meta}}}}}"
    if choice == 3:
        kind = draw(st.sampled_from(["max_pool2d", "avg_pool2d"]))
        ceil = ", ceil_mode: true" if draw(st.booleans()) else ""
        return f"{{{kind}: {{kernel: {draw(value)}, stride: {draw(value)}{ceil}{meta}}}}}"
    if choice == 4:
        return f"{{upsample: {{scale: {draw(value)}{meta}}}}}"
    if choice == 5:
        return f"{{linear: {{out: {draw(value)}{meta}}}}}"
    if choice == 6:
        if blocks:
            first = ""
            if draw(st.booleans()):
                first = f", first: {{block: {draw(st.sampled_from([*blocks, '[1, 2]', 'nothing']))}}}"
            return f"{{{draw(st.sampled_from(blocks))}: {{repeat: {draw(value)}{first}}}}}"
        return f"{{zero_pad2d: {{padding: {draw(value)}{meta}}}}}"
    branch = st.lists(layer(depth + 1, blocks, values), max_size=2).map(lambda xs: "[" + ", ".join(xs) + "]")
    if choice <= 8:
        kind = draw(st.sampled_from(["concat", "add", "multiply"]))
        return f"{{{kind}: {{branches: [{draw(branch)}, {draw(branch)}]{meta}}}}}"
    return f"{{residual: {{body: {draw(branch)}, shortcut: {draw(branch)}{meta}}}}}"


@st.composite
def grammar_specs(draw) -> str:
    """A spec built from the grammar: symbols, an input, blocks (which may use each other,
    cycles included) and layers."""
    lines = []
    hostile = draw(st.integers(0, 2))  # 0: ordinary values only; 1: hostile layers; 2: hostile symbols too
    if draw(st.booleans()):
        lines.append("name: " + draw(st.sampled_from(SPEC_NAMES + HOSTILE_NAMES if hostile else SPEC_NAMES)))
    values = tuple(ORDINARY + CONDITIONAL) if hostile == 0 else tuple(VALUES)
    symbols = {}
    for name, choices in SYMBOL_CHOICES.items():
        pool = choices + HOSTILE_SYMBOLS[name] if hostile == 2 else choices
        symbols[name] = draw(st.sampled_from(pool))
    lines.append("symbols: {" + ", ".join(f"{k}: {v}" for k, v in symbols.items()) + "}")
    lines.append(f"input: [N, {draw(st.sampled_from(['C', '3', '0'] if hostile else ['C', '3']))}, H, W]")
    names = draw(st.lists(st.sampled_from(["b1", "b2", "b3"]), max_size=3, unique=True))
    if names:
        lines.append("blocks:")
        for name in names:
            body = draw(st.lists(layer(1, tuple(names), values), min_size=1, max_size=3))
            lines.append(f"  {name}: {{args: {{k: 4}}, layers: [{', '.join(body)}]}}")
    body = draw(st.lists(layer(0, tuple(names), values), min_size=1, max_size=6))
    lines.append("layers:")
    lines.extend(f"  - {entry}" for entry in body)
    return "\n".join(lines) + "\n"


_SPEC_TEXTS = [p.read_text() for p in all_specs()]
_NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")
_INSERTS = [
    "  - relu: {repeat: 100000}",
    "  - conv2d: {out: 010, kernel: 1:20}",
    '  - conv2d: {out: "(H+W+1)**64", kernel: 1}',
    "  - concat: {branches: [[], [{max_pool2d: {kernel: 2}}]]}",
    "  - {relu: {from: nowhere}}",
    '  - relu: {name: "\\e[31m"}',
    "  - &a relu",
    "  - !!python/object/apply:os.system [ls]",
    "blocks: {x: {layers: [{x: {}}]}}",
    "\t- relu",
]


@st.composite
def mutated_specs(draw) -> str:
    """A bundled spec with a few edits: numbers replaced by hostile values, lines deleted,
    duplicated or inserted, the text cut short."""
    text = draw(st.sampled_from(_SPEC_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        lines = text.splitlines()
        op = draw(st.integers(0, 8))
        if op <= 1:
            numbers = list(_NUMBER.finditer(text))
            if numbers:
                m = draw(st.sampled_from(numbers))
                text = text[: m.start()] + draw(st.sampled_from(VALUES)) + text[m.end() :]
        elif op == 2 and lines:
            i = draw(st.integers(0, len(lines) - 1))
            del lines[i]
            text = "\n".join(lines) + "\n"
        elif op == 3 and lines:
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            text = "\n".join(lines) + "\n"
        elif op == 4:
            i = draw(st.integers(0, len(lines)))
            lines.insert(i, draw(st.sampled_from(_INSERTS)))
            text = "\n".join(lines) + "\n"
        elif op == 5:
            text = text[: draw(st.integers(0, len(text)))]
        # 6 to 8: leave the text as it is (mutations are rarer than edits)
    return text


# Networks whose arguments are conditionals, min/max, residues and roots of H, valid for most H:
# for comparing the answers of sweep and solve with the analysis of each value.
OUTS = [
    "4",
    '"4 if H > 16 else 2"',
    '"max(1, 40 - H)"',
    '"H % 5 + 1"',
    '"(1 if H > 3 else 2) + (1 if H > 5 else 0)"',
    '"floor(H*2**(1/2)) % 7 + 1"',
]
KERNELS = ["1", "3", '"1 if H < 20 else 3"', '"3 if H % 2 == 0 else 1"', '"2 if H >= 30 and H < 40 else 1"']
STRIDES = ["1", "2", '"1 if H < 24 else 2"', '"2 if not H < 12 else 1"']
PADDINGS = ["0", "1", '"1 if H > 10 else 0"', '"1 if H == 7 or H > 50 else 0"']


@st.composite
def conditional_networks(draw) -> str:
    """A chain of 1 to 4 convolutions and poolings along the height of an ``H x H`` input
    (declared max 60), their arguments drawn from conditionals of ``H``."""
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        k, st_, p = (
            draw(st.sampled_from(KERNELS)),
            draw(st.sampled_from(STRIDES)),
            draw(st.sampled_from(PADDINGS)),
        )
        if draw(st.integers(0, 3)):
            out = draw(st.sampled_from(OUTS))
            layers.append(
                f"  - conv2d: {{out: {out}, kernel: [{k}, 1], stride: [{st_}, 1], padding: [{p}, 0]}}"
            )
        else:
            layers.append(f"  - max_pool2d: {{kernel: [{k}, 1], stride: [{st_}, 1], padding: [{p}, 0]}}")
    channels = draw(st.sampled_from(["3", '"2 if H < 30 else 3"']))
    return (
        "symbols: {H: {default: 32, max: 60}}\n"
        f"input: [1, {channels}, H, H]\nlayers:\n" + "\n".join(layers) + "\n"
    )
