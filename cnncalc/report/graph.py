"""The network's graph: a node per layer (or per block, folded), an edge per tensor, drawn.

:func:`graph_view` turns an analysis into nodes and edges, every layer its own node or, at a
depth, each block at that depth folded into one node with its subtotals (the way ``--depth``
folds the table). :func:`to_dot` writes Graphviz's DOT (blocks as clusters) and needs nothing;
:func:`layout` places the nodes with a layout library, never by hand: Graphviz's ``dot`` when
it is installed, else grandalf's layered (Sugiyama) layout in pure Python; :func:`to_svg` draws
the result, each node coloured by its share of the MACs.
"""

from __future__ import annotations

import itertools
import math
import shutil
import subprocess
from dataclasses import dataclass
from html import escape
from typing import Any

from ..analysis.groups import depth_of, groups
from ..core import dims
from ..core.engine import Analysis
from ..errors import UsageError

#: The layout engines, by name (``auto``: dot when installed, else grandalf).
ENGINES = ("auto", "dot", "grandalf")
#: Font size of node text, pixels; the width of a character is taken as 0.62 of it (monospace).
FONT = 11
CHAR = FONT * 0.62
LINE = 14
#: Longest a layout run of dot may take (a huge graph): then the message says so.
DOT_TIMEOUT = 600


@dataclass(frozen=True)
class Node:
    """A layer, a folded block, or the network's input."""

    id: str  # the layer's name, the block's path, or "input"
    kind: str  # the layer kind; "block" for a folded block; "input"
    shape: tuple  # output shape
    params: Any
    macs: Any
    layers: int = 1  # layers it stands for
    block: bool = False

    def lines(self) -> list[str]:
        """The text drawn in the node, one line each."""
        out = [self.id, f"{self.kind} ({self.layers} layers)" if self.block else self.kind]
        out.append(dims.fmt_shape(self.shape))
        if self.kind != "input":
            out.append(f"params {_count(self.params)}  MACs {_count(self.macs)}")
        return out


@dataclass(frozen=True)
class Edge:
    """A tensor from one node to another (its shape is the tail's output shape)."""

    tail: str
    head: str
    shape: tuple


@dataclass(frozen=True)
class GraphView:
    """The graph at one depth (None: every layer)."""

    depth: int | None
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def _count(v: Any) -> str:
    if v is None:
        return "?"
    if not isinstance(v, int):
        return dims.fmt(v)
    for scale, unit in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if abs(v) >= scale:
            return f"{v / scale:.2f}{unit}"
    return str(v)


def depths(a: Analysis) -> list[int | None]:
    """The depths worth a view: every level that folds some block, then every layer (None)."""
    levels = sorted({g.depth for g in groups(a)})
    return [*levels, None]


def graph_view(a: Analysis, depth: int | None = None) -> GraphView:
    """Nodes and edges of ``a``; at ``depth``, the blocks at that level folded into one node."""
    by_path = {g.path: g for g in groups(a)}

    def rep(name: str) -> str:
        if depth is None or name == "input" or depth_of(name) <= depth:
            return name
        path = ".".join(name.split(".")[:depth])
        return path if path in by_path else name

    nodes: dict[str, Node] = {"input": Node("input", "input", a.input_shape, 0, 0, 0)}
    edges: dict[tuple[str, str], Edge] = {}
    shapes = {"input": a.input_shape, **{r.name: r.output_shape for r in a.layers}}
    for r in a.layers:
        me = rep(r.name)
        if me not in nodes:
            if me == r.name:
                nodes[me] = Node(r.name, r.kind, r.output_shape, r.params, r.macs)
            else:
                g = by_path[me]
                macs = g.macs if not g.unknown_cost else None
                params = g.params if not g.unknown_cost else None
                nodes[me] = Node(me, "block", g.output_shape, params, macs, g.layers, True)
        for i in r.inputs:
            tail = rep(i)
            if tail != me and (tail, me) not in edges:
                edges[(tail, me)] = Edge(tail, me, shapes[i])
    return GraphView(depth, tuple(nodes.values()), tuple(edges.values()))


# ---------------------------------------------------------------------------------------------
# DOT


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(a: Analysis, view: GraphView) -> str:
    """Graphviz's DOT for ``view``: boxes with each node's text, blocks as clusters."""
    costs = [n.macs for n in view.nodes if isinstance(n.macs, int)]
    top = max(costs, default=0)
    lines = [
        f"digraph {_quote(a.name)} {{",
        "  rankdir=TB;",
        f'  node [shape=box, style="rounded,filled", fontname="monospace", fontsize={FONT}];',
        '  edge [fontname="monospace", fontsize=9];',
    ]
    ids = {n.id: f"n{i}" for i, n in enumerate(view.nodes)}
    # Clusters: every dotted prefix of a node's name (layer1 holds layer1.0, which holds its layers).
    members: dict[str, list[Node]] = {}
    clusters: dict[str, list[str]] = {}
    for n in view.nodes:
        parts = n.id.split(".") if n.id != "input" else [n.id]
        members.setdefault(".".join(parts[:-1]), []).append(n)
        for k in range(1, len(parts)):
            path, parent = ".".join(parts[:k]), ".".join(parts[: k - 1])
            if path not in clusters.get(parent, []):
                clusters.setdefault(parent, []).append(path)

    def emit(prefix: str, indent: str) -> None:
        for n in members.get(prefix, []):
            label = "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in n.lines())
            lines.append(f'{indent}{ids[n.id]} [label="{label}", fillcolor="{fill(n.macs, top)}"];')
        for child in clusters.get(prefix, []):
            lines.append(f"{indent}subgraph {_quote('cluster_' + child)} {{")
            lines.append(f"{indent}  label={_quote(child)}; style=rounded; color=gray60;")
            emit(child, indent + "  ")
            lines.append(f"{indent}}}")

    emit("", "  ")
    for e in view.edges:
        lines.append(f"  {ids[e.tail]} -> {ids[e.head]} [tooltip={_quote(dims.fmt_shape(e.shape))}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Layout


@dataclass(frozen=True)
class Layout:
    """Where everything goes, in pixels, y downwards: node centres and sizes, edge polylines or
    cubic Bézier paths."""

    width: float
    height: float
    boxes: dict[str, tuple[float, float, float, float]]  # id -> (x, y, w, h), x and y the centre
    routes: list[tuple[Edge, list[tuple[float, float]], bool]]  # points; True: Bézier controls
    engine: str


def node_size(n: Node) -> tuple[float, float]:
    lines = n.lines()
    return max(len(t) for t in lines) * CHAR + 16, len(lines) * LINE + 10


def engine_for(name: str = "auto") -> str:
    """The layout engine to use for ``name``.

    Raises:
        UsageError: when the engine asked for is not installed, saying how to install it.
    """
    if name not in ENGINES:
        raise UsageError(f"--layout {name}: unknown; known: {', '.join(ENGINES)}")
    if name in ("auto", "dot") and shutil.which("dot"):
        return "dot"
    if name == "dot":
        raise UsageError(
            "--layout dot: Graphviz's dot is not installed (apt install graphviz, brew install "
            "graphviz); --layout grandalf needs nothing more"
        )
    try:
        import grandalf  # noqa: F401
    except ImportError:
        raise UsageError(
            "drawing the graph needs a layout library: pip install grandalf (a dependency of "
            "cnncalc: reinstall it with its dependencies), or install Graphviz's dot"
        ) from None
    return "grandalf"


def layout(view: GraphView, engine: str = "auto") -> Layout:
    """Place ``view``'s nodes and route its edges with ``engine``."""
    engine = engine_for(engine)
    sizes = {n.id: node_size(n) for n in view.nodes}
    if engine == "dot":
        return _layout_dot(view, sizes)
    return _layout_grandalf(view, sizes)


def _layout_grandalf(view: GraphView, sizes: dict) -> Layout:
    from grandalf.graphs import Edge as GEdge
    from grandalf.graphs import Graph, Vertex
    from grandalf.layouts import SugiyamaLayout
    from grandalf.routing import route_with_lines

    class _Box:
        def __init__(self, w: float, h: float):
            self.w, self.h, self.xy = w, h, (0.0, 0.0)

    class _Path:
        def setpath(self, pts):
            self.points = pts

    vs = {}
    for n in view.nodes:
        v = Vertex(n.id)
        v.view = _Box(*sizes[n.id])
        vs[n.id] = v
    es = []
    for e in view.edges:
        ge = GEdge(vs[e.tail], vs[e.head])
        ge.view = _Path()
        es.append((e, ge))
    g = Graph(list(vs.values()), [ge for _, ge in es])
    x_offset = 0.0
    boxes: dict[str, tuple[float, float, float, float]] = {}
    routes = []
    for component in g.C:
        sug = SugiyamaLayout(component)
        sug.xspace, sug.yspace = 24, 36
        sug.route_edge = route_with_lines
        roots = [v for v in component.sV if not v.e_in()]
        sug.init_all(roots=roots or None)
        sug.draw(3)
        xs = [v.view.xy[0] - v.view.w / 2 for v in component.sV]
        shift = x_offset - min(xs)
        for v in component.sV:
            x, y = v.view.xy
            boxes[v.data] = (x + shift, y, v.view.w, v.view.h)
        x_offset = max(b[0] + b[2] / 2 for b in boxes.values()) + 40
        for e, ge in es:
            if ge in component.sE:
                routes.append((e, [(px + shift, py) for px, py in ge.view.points], False))
    return _normalise(boxes, routes, "grandalf")


def _layout_dot(view: GraphView, sizes: dict) -> Layout:
    ids = {n.id: f"n{i}" for i, n in enumerate(view.nodes)}
    back = {v: k for k, v in ids.items()}
    text = ["digraph g {", "  rankdir=TB; nodesep=0.3; ranksep=0.45;", "  node [shape=box, fixedsize=true];"]
    for n in view.nodes:
        w, h = sizes[n.id]
        text.append(f"  {ids[n.id]} [width={w / 72:.4f}, height={h / 72:.4f}];")
    for i, e in enumerate(view.edges):
        text.append(f"  {ids[e.tail]} -> {ids[e.head]} [id=e{i}];")
    text.append("}")
    try:
        run = subprocess.run(
            ["dot", "-Tplain-ext"],
            input="\n".join(text),
            capture_output=True,
            text=True,
            timeout=DOT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise UsageError(
            f"Graphviz's dot took over {DOT_TIMEOUT} s on this graph: try --layout grandalf"
        ) from None
    if run.returncode != 0:
        raise UsageError(f"Graphviz's dot failed: {run.stderr.strip()[:300]}")
    height = 0.0
    boxes = {}
    routes = []
    pending = list(view.edges)
    for line in run.stdout.splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "graph":
            height = float(f[3]) * 72
        elif f[0] == "node":
            x, y, w, h = (float(v) * 72 for v in f[2:6])
            boxes[back[f[1]]] = (x, height - y, w, h)
        elif f[0] == "edge":
            count = int(f[3])
            pts = [(float(f[4 + 2 * k]) * 72, height - float(f[5 + 2 * k]) * 72) for k in range(count)]
            tail, head = back[f[1]], back[f[2]]
            match = next(e for e in pending if e.tail == tail and e.head == head)
            pending.remove(match)
            routes.append((match, pts, True))
    return _normalise(boxes, routes, "dot")


def _normalise(boxes: dict, routes: list, engine: str) -> Layout:
    """Shift everything to start at a margin; the canvas's size."""
    margin = 12
    xs = [b[0] - b[2] / 2 for b in boxes.values()] + [p[0] for _, ps, _ in routes for p in ps]
    ys = [b[1] - b[3] / 2 for b in boxes.values()] + [p[1] for _, ps, _ in routes for p in ps]
    dx, dy = margin - min(xs), margin - min(ys)
    boxes = {k: (x + dx, y + dy, w, h) for k, (x, y, w, h) in boxes.items()}
    routes = [(e, [(x + dx, y + dy) for x, y in ps], c) for e, ps, c in routes]
    width = max(b[0] + b[2] / 2 for b in boxes.values()) + margin
    height = max(b[1] + b[3] / 2 for b in boxes.values()) + margin
    width = max([width] + [p[0] + margin for _, ps, _ in routes for p in ps])
    height = max([height] + [p[1] + margin for _, ps, _ in routes for p in ps])
    return Layout(width, height, boxes, routes, engine)


# ---------------------------------------------------------------------------------------------
# SVG

#: The colour scale of a node's MACs, as a share of the largest: from none to the most.
SCALE = ((0.0, (255, 247, 236)), (0.5, (253, 187, 132)), (0.8, (239, 101, 72)), (1.0, (179, 0, 0)))


def fill(macs: Any, top: int) -> str:
    """The colour of a node costing ``macs`` when the costliest costs ``top`` (by the square
    root of the share, so that a tenth of the most is still visibly coloured); white for none,
    grey when unknown."""
    if not isinstance(macs, int):
        return "#e0e0e0"
    if macs <= 0 or top <= 0:
        return "#ffffff"
    t = math.sqrt(min(macs / top, 1.0))
    for (t0, c0), (t1, c1) in itertools.pairwise(SCALE):
        if t <= t1:
            u = (t - t0) / (t1 - t0) if t1 > t0 else 0
            return "#" + "".join(f"{round(a + (b - a) * u):02x}" for a, b in zip(c0, c1, strict=True))
    return "#b30000"


def ink(colour: str) -> str:
    """Black or white text, whichever reads on ``colour`` (``#rrggbb``)."""
    r, g, b = (int(colour[k : k + 2], 16) for k in (1, 3, 5))
    return "#000" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "#fff"


def to_svg(view: GraphView, lay: Layout, ident: str = "g") -> str:
    """The laid-out graph as a standalone SVG document (no external reference)."""
    top = max([n.macs for n in view.nodes if isinstance(n.macs, int)], default=0)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width:.0f}" height="{lay.height:.0f}" '
        f'viewBox="0 0 {lay.width:.1f} {lay.height:.1f}" font-family="ui-monospace, Menlo, Consolas, '
        f'monospace" font-size="{FONT}" data-engine="{lay.engine}">',
        f'<defs><marker id="{ident}-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
        '<g class="edges" fill="none" stroke="#555" stroke-width="1.2">',
    ]
    for e, pts, bezier in lay.routes:
        if bezier and len(pts) >= 4 and (len(pts) - 1) % 3 == 0:
            d = f"M{pts[0][0]:.1f},{pts[0][1]:.1f} " + " ".join(
                "C" + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts[k : k + 3]) for k in range(1, len(pts), 3)
            )
        else:
            d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        out.append(
            f'<path class="edge" data-tail="{escape(e.tail)}" data-head="{escape(e.head)}" d="{d}" '
            f'marker-end="url(#{ident}-arrow)"><title>{escape(e.tail)} → {escape(e.head)}: '
            f"{escape(dims.fmt_shape(e.shape))}</title></path>"
        )
    out.append("</g>")
    out.append('<g class="nodes">')
    for n in view.nodes:
        x, y, w, h = lay.boxes[n.id]
        lines = n.lines()
        tip = "\n".join(lines)
        cls = "node block" if n.block else "node"
        # a folded block: a darker, dashed border
        border = 'stroke="#333" stroke-width="1.6" stroke-dasharray="4 2"' if n.block else 'stroke="#777"'
        out.append(
            f'<g class="{cls}" data-id="{escape(n.id)}" data-kind="{escape(n.kind)}">'
            f"<title>{escape(tip)}</title>"
            f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6" '
            f'fill="{fill(n.macs, top)}" {border}/>'
        )
        y0 = y - h / 2 + 5 + LINE - 3
        colour = ink(fill(n.macs, top))
        for k, text in enumerate(lines):
            weight = ' font-weight="bold"' if k == 0 else ""
            out.append(
                f'<text x="{x:.1f}" y="{y0 + k * LINE:.1f}" text-anchor="middle" fill="{colour}"{weight}>'
                f"{escape(text)}</text>"
            )
        out.append("</g>")
    out.append("</g></svg>")
    return "\n".join(out) + "\n"
