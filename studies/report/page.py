"""A report as a table of sections, written by one page writer to CSV, Markdown and HTML.

Each :class:`Section` says what it computes, holds the tables it writes as CSV and the one it shows, the
findings it adds to "What the numbers show" and the data sets it applies to. The compare report
(`studies.report.report`) and the contrast (`studies.report.contrast`) are lists of sections;
:func:`write_page` writes them, and ``sections.csv`` lists them (docs/DESIGN.md §6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from studies.report.html import MISSING, render_html
from wgan import io
from wgan.data import DATASETS

FINDINGS_TITLE = "What the numbers show"


@dataclass(frozen=True)
class Section:
    title: str
    computes: str                                    # one sentence: what the section computes and how
    shown: pd.DataFrame | None = None                # the table the page shows (text with intervals)
    csv: dict[str, pd.DataFrame] = field(default_factory=dict)  # the numeric tables, one CSV each
    findings: tuple[str, ...] = ()                   # sentences it adds to the findings
    figure: Path | None = None                       # a figure instead of a table
    datasets: tuple[str, ...] = DATASETS             # the data sets it applies to


def applying(sections: list[Section], dataset: str) -> list[Section]:
    return [s for s in sections if dataset in s.datasets]


def markdown_page(title: str, intro: str, sections: list[Section]) -> str:
    """The Markdown twin of the HTML page: intro, findings, then each section (its note, table or figure)."""
    lines = [line for s in sections for line in s.findings if line]
    md = [f"# {title}", "", intro, "", f"## {FINDINGS_TITLE}", ""] + [f"- {line}" for line in lines] + [""]
    for s in sections:
        if s.shown is None and s.figure is None:
            continue
        md += [f"## {s.title}", "", f"*{s.computes}*", ""]
        if s.shown is not None:
            shown = s.shown.astype(object).where(s.shown.notna(), MISSING)  # NaN as the HTML page shows it
            md += [shown.to_markdown(index=False, floatfmt=".4g"), ""]
        if s.figure is not None:
            md += [f"![{s.title}]({s.figure.name})", ""]
    return "\n".join(md)


def index(sections: list[Section]) -> pd.DataFrame:
    """The table of sections itself: title, what it computes, findings added, data sets, files."""
    return pd.DataFrame([{"title": s.title, "computes": s.computes, "findings": len([f for f in s.findings if f]),
                          "datasets": " ".join(s.datasets), "files": " ".join(
                              [f"{n}.csv" for n in s.csv] + ([s.figure.name] if s.figure else []))}
                         for s in sections])


def write_page(out_dir: Path, stem: str, title: str, intro: str, sections: list[Section],
               best: dict[str, str] | None = None) -> list[Path]:
    """Every section's CSVs, ``sections.csv``, ``<stem>.md`` and ``<stem>.html``; returns the paths written."""
    written = [io.write_text(out_dir / f"{name}.csv", frame.to_csv(index=False))
               for s in sections for name, frame in s.csv.items()]
    written.append(io.write_text(out_dir / "sections.csv", index(sections).to_csv(index=False)))
    written.append(io.write_text(out_dir / f"{stem}.md", markdown_page(title, intro, sections)))
    lines = [line for s in sections for line in s.findings if line]
    tables = [(s.title, s.shown) for s in sections if s.shown is not None]
    figures = [(s.title, s.figure) for s in sections if s.figure is not None]
    notes = {s.title: s.computes for s in sections}
    page = render_html(title, intro, lines, tables, figures, best=best, findings_title=FINDINGS_TITLE, notes=notes)
    written.append(io.write_text(out_dir / f"{stem}.html", page))
    return written
