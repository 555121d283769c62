"""The simulation's report: one CSV per table and a standalone ``index.html`` with charts.

The HTML page carries everything it needs (Apache ECharts, the project's vendored copy,
inline), so it can be mailed or opened from a share without a server. Each chart is drawn
from the table right below it; the figures are the tables' own text.

Writing is all or nothing: the report is built in a fresh folder beside the target and
swapped in at the end, so an error leaves no half-written report (and an earlier report in
the same folder stays as it was).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
from jinja2 import Environment, FileSystemLoader, select_autoescape

import yibao
from yibao.errors import InvalidInput

from .simulate import ReportTable, Simulation, yuan

TEMPLATES = Path(__file__).with_name("templates")
# The vendored ECharts of the pages (yibao/web/static/vendor, with its licence and digest):
# read as a file, the batch face does not import the web face.
ECHARTS = Path(yibao.__file__).parent / "web" / "static" / "vendor" / "echarts.min.js"
REPORT_MARK = "index.html"


def table_csv(table: ReportTable) -> str:
    """The table as CSV text: a header of column keys, money in yuan with two decimals."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.key for c in table.columns])
    writer.writerows(table.cells())
    return buffer.getvalue()


def person_diff_csv(persons: pa.Table) -> str:
    """The person diff: one row per person, money in yuan (the ``_fen`` columns converted)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    names = persons.column_names
    writer.writerow([n.removesuffix("_fen") for n in names])
    columns = [persons.column(n).to_pylist() for n in names]
    money = [n.endswith("_fen") for n in names]
    for i in range(persons.num_rows):
        writer.writerow(
            [
                yuan(col[i]) if is_money else col[i]
                for col, is_money in zip(columns, money, strict=True)
            ]
        )
    return buffer.getvalue()


def _script_json(value: object) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>`` can close it early)."""
    return (
        json.dumps(value, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def render_html(sim: Simulation, *, title: str, sources: dict[str, str]) -> str:
    """The standalone report page."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
    )
    env.filters["script_json"] = _script_json
    env.filters["yuan"] = yuan
    try:
        echarts = ECHARTS.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(str(ECHARTS), "", f"the charts library is missing ({exc})") from None
    return env.get_template("simulate_report.html").render(
        sim=sim,
        title=title,
        sources=sources,
        echarts=echarts.replace("</script", "<\\/script"),
    )


def check_report_folder(out: Path) -> None:
    """The report folder may be new, empty, or an earlier report (it is replaced whole)."""
    if out.exists() and not out.is_dir():
        raise InvalidInput("--out", str(out), "is a file; name a folder for the report")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise InvalidInput("--out", str(out), f"folder {parent} does not exist")
    if out.is_dir() and any(out.iterdir()) and not (out / REPORT_MARK).is_file():
        raise InvalidInput(
            "--out",
            str(out),
            "is a folder with other files and no report in it; name a new or empty folder",
        )


def write_report(sim: Simulation, out: Path, *, title: str, sources: dict[str, str]) -> list[Path]:
    """``index.html`` and one CSV per table in ``out``; the files written."""
    check_report_folder(out)
    html = render_html(sim, title=title, sources=sources)
    names = [f"{t.slug}.csv" for t in sim.tables]
    with _fresh_folder(out) as folder:
        for table in sim.tables:
            (folder / f"{table.slug}.csv").write_text(table_csv(table), encoding="utf-8")
        (folder / REPORT_MARK).write_text(html, encoding="utf-8")
    return [out / REPORT_MARK, *(out / n for n in names)]


@contextmanager
def _fresh_folder(out: Path) -> Iterator[Path]:
    """A new folder beside ``out``, put in its place when the block succeeds."""
    parent = out.parent if str(out.parent) else Path(".")
    tag = f"{os.getpid()}.{uuid.uuid4().hex[:12]}"
    temp = parent / f".{out.name}.{tag}.part"
    old = parent / f".{out.name}.{tag}.old"
    temp.mkdir()
    try:
        yield temp
        if out.exists():
            out.rename(old)
        try:
            temp.rename(out)
        except OSError:
            if old.exists():
                old.rename(out)
            raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
