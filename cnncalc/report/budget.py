"""Budget checks rendered: a table of what is over and by how much, JSON, JUnit XML and GitHub
Actions annotations (:mod:`cnncalc.analysis.budget` computes them)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..analysis.budget import Verdict
from ..core import dims
from .text import number

Results = list  # [(spec, (Verdict, ...)), ...]


def _sizes(v: Verdict) -> str:
    """``H=224, W=224`` (an open symbol: ``H=224 (of 32..224)``, at its range's largest total);
    the batch and others too."""
    parts = []
    for name, value in v.at.items():
        if name in v.ranges:
            lo, hi = v.ranges[name]
            parts.append(f"{name}={_num(value)} (of {_num(lo)}..{_num(hi)})")
        else:
            parts.append(f"{name}={_num(value)}")
    return ", ".join(parts)


def _num(v: Any) -> str:
    if isinstance(v, Fraction):
        return f"{v.numerator}/{v.denominator}" if v.denominator != 1 else str(v.numerator)
    return dims.fmt(v) if not isinstance(v, int) else str(v)


def _share(v: Verdict) -> str:
    if v.limit == 0:
        return ""
    return f"{abs(v.excess) * 100 / v.limit:.2f}%"


def summary(v: Verdict) -> str:
    """One line: ``macs 4,144,854,528 > 4,100,000,000 (over by 44,854,528, 1.09%) at H=224``."""
    op = ">" if v.over else "<="
    how = f"over by {number(v.excess)}" if v.over else f"{number(-v.excess)} to spare"
    share = _share(v)
    where = f" at {_sizes(v)}" if v.at else ""
    cut = f"; ranges cut to where the network exists: {'; '.join(v.narrowed)}" if v.narrowed else ""
    return (
        f"{v.metric} {number(v.value)} {op} {number(v.limit)} ({how}{', ' + share if share else ''}){where}"
        + cut
    )


def table(results: Results, width: int = 120):
    """What each limit allows, the total, and how far over (or under) it is: a table, or where
    ``width`` columns cannot hold it whole, one paragraph per limit (numbers are never cut)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    rows = [_cells(v) for _, vs in results for v in vs]
    heads = ("spec", "budget", "limit", "total", "over by", "", "at")
    need = sum(max([len(h)] + [len(r[i]) for r in rows]) + 3 for i, h in enumerate(heads)) + 1
    if need > width:
        return _paragraphs(results, width)

    t = Table(header_style="bold")
    t.add_column("spec", overflow="fold", min_width=8)
    t.add_column("budget", no_wrap=True)
    t.add_column("limit", justify="right", no_wrap=True)
    t.add_column("total", justify="right", no_wrap=True)
    t.add_column("over by", justify="right")
    t.add_column("", no_wrap=True)
    t.add_column("at", overflow="fold", min_width=12)
    over = total = 0
    for spec, verdicts in results:
        if not verdicts:
            t.add_row(spec.name, Text("no budget", style="dim"), "", "", "", "", "")
        for v in verdicts:
            total += 1
            over += v.over
            share = _share(v)
            if v.over:
                margin = Text(f"+{number(v.excess)}" + (f" (+{share})" if share else ""), style="red")
            else:
                margin = Text(f"-{number(-v.excess)}" + (f" (-{share})" if share else ""), style="dim")
            unit = " B" if v.metric.endswith("_bytes") else ""
            t.add_row(
                v.spec,
                v.metric + (" (largest)" if v.ranges else ""),
                number(v.limit) + unit,
                number(v.value) + unit,
                margin,
                Text("OVER", style="bold red") if v.over else Text("ok", style="green"),
                _sizes(v),
            )
    line = (
        Text(f"{over} of {total} limits over.", style="bold red")
        if over
        else Text(f"Within every limit ({total}).", style="green")
    )
    notes = [line]
    declared = list(dict.fromkeys(v.where for _, vs in results for v in vs if v.where != "command line"))
    if declared:
        notes.append(Text("Declared at " + ", ".join(declared) + ".", style="dim"))
    cuts = list(dict.fromkeys(why for _, vs in results for v in vs for why in v.narrowed))
    if cuts:
        notes.append(
            Text(
                "Ranges cut to where the network exists (beyond, no layer has an output): "
                + "; ".join(cuts)
                + ".",
                style="dim",
            )
        )
    ranged = next((v for _, vs in results for v in vs if v.ranges), None)
    if ranged is not None:  # the notation read on the first such row
        name, (lo, hi) = next(iter(ranged.ranges.items()))
        span = f"{_num(lo)}..{_num(hi)}"
        example = f"{name}={_num(ranged.at[name])} (of {span}): {name} from {_num(lo)} to {_num(hi)}"
        notes.append(
            Text(
                f"(largest): the largest total over the ranges given ({example}), proved monotone "
                "and reached at the sizes shown.",
                style="dim",
            )
        )
    return Group(t, *notes)


def _cells(v: Verdict) -> tuple[str, ...]:
    unit = " B" if v.metric.endswith("_bytes") else ""
    return (
        v.spec,
        v.metric + (" (largest)" if v.ranges else ""),
        number(v.limit) + unit,
        number(v.value) + unit,
        f"+{number(v.excess)} (+{_share(v)})" if v.over else f"-{number(-v.excess)} (-{_share(v)})",
        "OVER" if v.over else "ok",
        _sizes(v),
    )


def _paragraphs(results: Results, width: int):
    from rich.console import Group
    from rich.text import Text

    from .layout import wrap_hanging

    parts = []
    over = total = 0
    for spec, verdicts in results:
        if not verdicts:
            parts.append(Text(f"{spec.name}: no budget", style="dim"))
        for v in verdicts:
            total += 1
            over += v.over
            head = Text(f"{v.spec}: ", style="bold")
            head.append("OVER" if v.over else "ok", style="bold red" if v.over else "green")
            lines = wrap_hanging(summary(v), width - 2)
            parts += [head, Text("\n".join("  " + line.strip() for line in lines))]
    parts.append(
        Text(f"{over} of {total} limits over.", style="bold red")
        if over
        else Text(f"Within every limit ({total}).", style="green")
    )
    return Group(*parts)


def to_dict(results: Results) -> dict:
    """``{"ok": ..., "checks": [...]}``: every limit, exact integers."""
    checks = []
    for spec, verdicts in results:
        for v in verdicts:
            checks.append(
                {
                    "spec": v.spec,
                    "file": v.filename,
                    "declared": v.where,
                    "metric": v.metric,
                    "limit": v.limit,
                    "value": v.value,
                    "over": v.over,
                    "excess": v.excess,
                    "symbols": {k: _json(x) for k, x in v.at.items()},
                    "ranges": {k: [_json(lo), _json(hi)] for k, (lo, hi) in v.ranges.items()},
                    "narrowed_by": list(v.narrowed),
                }
            )
        if not verdicts:
            checks.append({"spec": spec.name, "file": spec.filename, "metric": None})
    return {"ok": not any(c.get("over") for c in checks), "checks": checks}


def _json(v: Any) -> Any:
    if isinstance(v, Fraction):
        return v.numerator if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
    return v if isinstance(v, int) else dims.fmt(v)


def junit(results: Results) -> str:
    """JUnit XML: a test suite per spec, a test case per limit, a failure for each over."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="cnncalc check")
    all_tests = all_failures = 0
    for spec, verdicts in results:
        failures = sum(v.over for v in verdicts)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=spec.name,
            file=spec.filename,
            tests=str(len(verdicts)),
            failures=str(failures),
            errors="0",
            skipped="0" if verdicts else "1",
        )
        all_tests += len(verdicts)
        all_failures += failures
        if not verdicts:
            case = ET.SubElement(suite, "testcase", classname=spec.name, name="budget")
            ET.SubElement(case, "skipped", message="no budget declared or given")
        for v in verdicts:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=spec.name,
                name=f"{v.metric} <= {number(v.limit)}" + (f" at {_sizes(v)}" if v.at else ""),
                file=spec.filename,
            )
            line = _line(v.where)
            if line:
                case.set("line", str(line[0]))
            if v.over:
                failure = ET.SubElement(case, "failure", message=summary(v), type="over budget")
                failure.text = f"{summary(v)}\ndeclared at {v.where}"
    root.set("tests", str(all_tests))
    root.set("failures", str(all_failures))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _line(where: str) -> tuple[int, int] | None:
    """(line, column) of ``file:line:column``; None for the command line."""
    parts = where.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[1]), int(parts[2])
    return None


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(results: Results) -> str:
    """GitHub Actions workflow commands: an ``::error`` at the budget's line for each limit over,
    then one plain line of totals."""
    lines = []
    over = total = 0
    for spec, verdicts in results:
        for v in verdicts:
            total += 1
            if not v.over:
                continue
            over += 1
            props = [f"file={_escape_property(spec.filename)}"]
            at = _line(v.where)
            if at:
                props += [f"line={at[0]}", f"col={at[1]}"]
            props.append(f"title={_escape_property(f'{v.spec}: {v.metric} over budget')}")
            lines.append(f"::error {','.join(props)}::{_escape_data(summary(v))}")
    lines.append(f"cnncalc check: {total - over} of {total} limits within, {over} over")
    return "\n".join(lines) + "\n"
