"""The office report: a period's statistics as one workbook, for the NMI office's meetings.

`nmi-desk report --source URL --from D --to D --output FILE.xlsx`. A summary sheet (period,
totals, visits per month and per location, the top topics) with two native Excel charts
(visits per month, top topics), then one sheet per dimension of the registry: each key's
total for the period, then the same figures by location and by month. The totals are the
figures of `nmi-desk export --source` for the same period (tests/test_report.py); codes and
counts only, never a name or a record id.
"""

from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font

from nmi_desk.core.translator import Translator
from nmi_desk.domain.reference.files import labels_for, shipped_reference
from nmi_desk.domain.stats.compute import DIMENSIONS, SMALL, breakdown, compute_stats
from nmi_desk.store.dimensions import BY_CODE

TOP_TOPICS = 10


def build_report(
    source, first: date, last: date, lang: str = "nl", *, suppress: bool = False, labels=None
) -> tuple[bytes, dict]:
    """The workbook's bytes and the period's figures (compute_stats) it was built from;
    `labels`: the reference data whose names it shows (default: the shipped files)."""

    ref = labels or shipped_reference()
    tr = Translator(lang)
    stats = compute_stats(source, first, last)
    groups = {by: breakdown(source, first, last, by) for by in ("location", "month")}

    def cell(n: int):
        return f"<{SMALL}" if suppress and 0 < n < SMALL else n

    bold = Font(bold=True)
    book = Workbook()
    summary = book.active
    summary.title = "summary"
    info = stats["info_sessions"]
    summary.append([tr("stats_report.title")])
    summary["A1"].font = Font(bold=True, size=14)
    for key, value in (
        ("stats_report.from", stats["period"]["from"]),
        ("stats_report.to", stats["period"]["to"]),
        ("stats_report.visits", cell(stats["visits"])),
        ("stats_report.sessions", cell(info["sessions"])),
        ("stats_report.attendees", cell(info["attendees"])),
    ):
        summary.append([tr(key), value])
    # Tables the charts draw from, side by side under the totals.
    months = [(m, sum(f["by_location"].values())) for m, f in groups["month"].items()]
    top = sorted(stats["by_topic"].items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_TOPICS]
    topic_labels = labels_for(ref, "topics", lang)
    start = summary.max_row + 2
    summary.cell(start, 1, tr("stats_report.month")).font = bold
    summary.cell(start, 2, tr("stats_report.visits")).font = bold
    for i, (month, n) in enumerate(months, start + 1):
        summary.cell(i, 1, month)
        summary.cell(i, 2, cell(n))
    summary.cell(start, 4, tr("stats_report.topic")).font = bold
    summary.cell(start, 5, tr("stats_report.visits")).font = bold
    for i, (code, n) in enumerate(top, start + 1):
        summary.cell(i, 4, topic_labels.get(code, code))
        summary.cell(i, 5, cell(n))
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["D"].width = 34
    charts = [
        ("stats_report.chart_months", 2, 1, len(months), "H2"),
        ("stats_report.chart_topics", 5, 4, len(top), "H20"),
    ]
    for title, values_col, labels_col, rows, anchor in charts:
        chart = BarChart()
        chart.type = "col" if values_col == 2 else "bar"
        chart.title = tr(title)
        chart.legend = None
        chart.height, chart.width = 8, 16
        data = Reference(summary, min_col=values_col, min_row=start, max_row=start + rows)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(
            Reference(summary, min_col=labels_col, min_row=start + 1, max_row=start + rows)
        )
        summary.add_chart(chart, anchor)

    for name in DIMENSIONS:
        dim = BY_CODE[name]
        ws = book.create_sheet(name)
        labels = labels_for(ref, dim.labels, lang)
        labels["unknown"] = tr("day_overview.unknown")
        ws.append([tr(dim.title_key)])
        ws["A1"].font = Font(bold=True, size=13)
        totals = stats[name]
        keys = (
            sorted(totals) if name == "by_hour" else sorted(totals, key=lambda k: (-totals[k], k))
        )
        for by, heading in (
            ("location", "stats_report.by_location"),
            ("month", "stats_report.by_month"),
        ):
            columns = list(groups[by])
            ws.append([])
            ws.append([tr(heading)])
            ws.cell(ws.max_row, 1).font = bold
            ws.append(
                [
                    tr("stats_report.key"),
                    tr("stats_report.label"),
                    tr("stats_report.total"),
                    *columns,
                ]
            )
            for c in ws[ws.max_row]:
                c.font = bold
            for key in keys:
                ws.append(
                    [
                        key,
                        f"{key}:00" if name == "by_hour" else labels.get(key, key),
                        cell(totals[key]),
                        *(cell(groups[by][g][name].get(key, 0)) for g in columns),
                    ]
                )
        ws.column_dimensions["A"].width = 24
        ws.column_dimensions["B"].width = 34
        ws.freeze_panes = "C1"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), stats
