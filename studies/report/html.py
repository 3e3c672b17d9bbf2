"""The comparison report as one self-contained HTML page that reads well in a browser.

:func:`render_html` takes what the report computes (intro, findings, tables, figure files) and
returns the page: the findings right after the intro, then the tables and the figures, each in a
``<section>`` with an ``id``; figures embedded as base64 ``data:`` URIs so the file works alone
(mailed, attached to a CI run, opened from anywhere); a small inline stylesheet; numbers to 4
significant digits, right-aligned; units in the headers where the column name gives them
(``wall_s`` → "wall (s)", ``images_per_s`` → "images/s"); and the best value of each score
column in bold.
"""

from __future__ import annotations

import base64
import math
import mimetypes
import numbers
import re
from collections.abc import Sequence
from html import escape
from pathlib import Path

import pandas as pd

FINDINGS_ID = "findings"
MISSING = "–"
_NUMBER = re.compile(r"^\s*[-+−]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")

CSS = """
:root { color-scheme: light; }
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1f2328; background: #fff; max-width: 62rem; margin: 2rem auto 4rem; padding: 0 1.25rem; }
h1 { font-size: 1.75rem; line-height: 1.25; margin: 0 0 .75rem; }
h2 { font-size: 1.25rem; margin: 2.25rem 0 .75rem; padding-bottom: .3rem; border-bottom: 1px solid #d8dee4; }
p.intro { color: #424a53; margin: 0 0 1.5rem; }
#findings { background: #f6f8fa; border-left: 4px solid #0969da; border-radius: 4px; padding: .25rem 1.25rem; }
#findings h2 { border: 0; margin-top: .75rem; }
#findings li { margin: .35rem 0; }
nav.contents { font-size: .9rem; color: #57606a; margin: 1.25rem 0 0; }
nav.contents a { color: #0969da; text-decoration: none; }
nav.contents a:hover { text-decoration: underline; }
code { font: .88em/1 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eaeef2;
       padding: .15em .35em; border-radius: 4px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: .92rem; font-variant-numeric: tabular-nums; margin: .25rem 0 .5rem; }
th, td { padding: .4rem .8rem; text-align: left; }
thead th { border-bottom: 2px solid #d0d7de; font-weight: 600; vertical-align: bottom; }
tbody tr:nth-child(even) { background: #f6f8fa; }
tbody tr:hover { background: #eaeef2; }
th.num, td.num { text-align: right; white-space: nowrap; }
td.best { font-weight: 700; }
td.missing { color: #8c959f; }
p.note { font-size: .85rem; color: #57606a; margin: .25rem 0 0; }
figure { margin: .5rem 0 1rem; }
figure img { max-width: 100%; height: auto; display: block; }
"""


# -- text --------------------------------------------------------------------------------------

def inline(text: str) -> str:
    """Plain text as HTML: escaped, with Markdown's `code` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text, quote=False))


def slug(title: str, used: set[str]) -> str:
    """A unique, readable ``id`` for a section title."""
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"
    name, k = base, 2
    while name in used:
        name, k = f"{base}-{k}", k + 1
    used.add(name)
    return name


def header_label(column: str) -> str:
    """A column name as its header: underscores as spaces, the unit its name gives in words."""
    if column.startswith("s_to_"):
        return f"time to {column[5:].replace('_', ' ')} (s)"
    if column.endswith("_per_s"):
        return f"{column[:-6].replace('_', ' ')}/s"
    if column.endswith("_s"):
        return f"{column[:-2].replace('_', ' ')} (s)"
    return column.replace("_", " ")


def format_number(value) -> str:
    """4 significant digits without exponents for everyday magnitudes; integers whole; NaN as a dash."""
    if value is None or isinstance(value, bool):
        return MISSING if value is None else str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    value = float(value)
    if math.isnan(value):
        return MISSING
    if math.isinf(value) or value == 0:
        return f"{value:g}"
    magnitude = math.floor(math.log10(abs(value)))
    if 4 <= magnitude < 15:
        return f"{round(value, 3 - magnitude):,.0f}"
    return f"{value:,.4g}"


def leading_number(text) -> float | None:
    """The number a cell starts with ("557.4 ± 12" → 557.4), or None."""
    if isinstance(text, numbers.Real) and not isinstance(text, bool):
        return float(text)
    match = _NUMBER.match(str(text)) if isinstance(text, str) else None
    return float(match.group(0).replace(",", "").replace("−", "-")) if match else None


# -- tables ------------------------------------------------------------------------------------

def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT


def is_numeric(column: pd.Series) -> bool:
    """Numbers, or text that starts with one in every filled cell ("557.4 ± 12")."""
    if pd.api.types.is_bool_dtype(column):
        return False
    if pd.api.types.is_numeric_dtype(column):
        return True
    filled = [v for v in column if not _missing(v)]
    return bool(filled) and all(leading_number(v) is not None for v in filled)


def best_rows(column: pd.Series, how: str) -> set[int]:
    """Positions holding the column's best value ("min" or "max").

    None when nothing sets a row apart: fewer than two rows, or every row holds the same value. A
    row with no value (a time to a target never reached) does not compete.
    """
    if how not in ("min", "max"):
        raise ValueError(f"best: {how!r} is not 'min' or 'max'")
    values = [leading_number(v) if not _missing(v) else None for v in column]
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite or len(values) < 2 or (len(set(finite)) == 1 and len(finite) == len(values)):
        return set()
    target = min(finite) if how == "min" else max(finite)
    return {i for i, v in enumerate(values) if v == target}


def table_html(frame: pd.DataFrame, best: dict[str, str] | None = None) -> str:
    best = best or {}
    if not isinstance(frame.index, pd.RangeIndex) or any(name is not None for name in frame.index.names):
        frame = frame.reset_index()
    columns = [str(c) for c in frame.columns]
    numeric = [is_numeric(frame.iloc[:, j]) for j in range(len(columns))]
    marked = {j: best_rows(frame.iloc[:, j], best[c]) for j, c in enumerate(columns) if c in best}
    num = ' class="num"'
    head = "".join(f'<th scope="col"{num if numeric[j] else ""} title="{escape(c)}">{escape(header_label(c))}</th>'
                   for j, c in enumerate(columns))
    rows = []
    for i in range(len(frame)):
        cells = []
        for j in range(len(columns)):
            value = frame.iat[i, j]
            classes = (["num"] if numeric[j] else []) + (["best"] if i in marked.get(j, ()) else [])
            if _missing(value):
                classes.append("missing")
                text = MISSING
            elif isinstance(value, numbers.Number) and not isinstance(value, bool):
                text = format_number(value)
            else:
                text = str(value)
            attr = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{attr}>{inline(text)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    note = ""
    shown = [(columns[j], best[columns[j]]) for j, rows_ in marked.items() if rows_]
    if shown:
        words = "; ".join(f"{escape(header_label(c))} ({'lowest' if how == 'min' else 'highest'})"
                          for c, how in shown)
        note = f'<p class="note"><strong>Bold</strong>: the best value of its column: {words}.</p>'
    return (f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>{note}")


# -- figures -----------------------------------------------------------------------------------

def data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def figure_html(title: str, path: Path) -> str:
    size = ""
    try:
        from PIL import Image

        with Image.open(path) as image:
            size = ' width="{}" height="{}"'.format(*image.size)  # the page keeps its layout while it loads
    except (ImportError, OSError):
        pass
    return f'<figure><img src="{data_uri(path)}" alt="{escape(title)}"{size}></figure>'


# -- the page ----------------------------------------------------------------------------------

def render_html(title: str, intro: str, findings: Sequence[str], sections: Sequence[tuple[str, pd.DataFrame]],
                figures: Sequence[tuple[str, Path]], *, best: dict[str, str] | None = None,
                findings_title: str = "What the numbers show", notes: dict[str, str] | None = None) -> str:
    """One self-contained HTML page (see the module docstring).

    ``best`` maps a column name to ``"min"`` or ``"max"``: in every table with that column, its
    best value is bold. Text in ``intro`` and ``findings`` may hold Markdown `code` spans. ``notes`` maps a
    heading to a line under it (what the section computes).
    """
    notes = notes or {}

    def note(heading: str) -> str:
        return f'<p class="note">{inline(notes[heading])}</p>' if heading in notes else ""

    used = {FINDINGS_ID}
    parts = [f'<section id="{FINDINGS_ID}"><h2>{escape(findings_title)}</h2><ul>'
             + "".join(f"<li>{inline(line)}</li>" for line in findings) + "</ul></section>"]
    contents = []
    for heading, frame in sections:
        anchor = slug(heading, used)
        contents.append((anchor, heading))
        parts.append(f'<section id="{anchor}"><h2>{escape(heading)}</h2>{note(heading)}{table_html(frame, best)}'
                     "</section>")
    for heading, path in figures:
        anchor = slug(heading, used)
        contents.append((anchor, heading))
        parts.append(f'<section id="{anchor}"><h2>{escape(heading)}</h2>{note(heading)}'
                     f"{figure_html(heading, Path(path))}</section>")
    nav = ('<nav class="contents" aria-label="Contents">Contents: '
           + " · ".join(f'<a href="#{a}">{escape(h)}</a>' for a, h in contents) + "</nav>") if contents else ""
    return ("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<link rel="icon" href="data:,">\n'  # no favicon request (and no console error for it)
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<header><h1>{escape(title)}</h1><p class=\"intro\">{inline(intro)}</p></header>\n"
            + parts[0] + "\n" + nav + "\n" + "\n".join(parts[1:]) + "\n</body>\n</html>\n")
