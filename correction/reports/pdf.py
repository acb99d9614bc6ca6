"""The printable PDF: title page, totals, charts of daily compliance and the 8-week trend,
the attention list and the per-supervisee table. Chinese renders with an embedded CJK font."""
from __future__ import annotations

import io
import os
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "CJK"


def _register_font(path: str) -> str:
    """Embed the configured CJK TrueType font; without it, use a standard CID font (not embedded)."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return FONT
    if path and os.path.exists(path):
        pdfmetrics.registerFont(TTFont(FONT, path, subfontIndex=0))
        return FONT
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


def to_pdf(report: dict[str, Any], font_path: str) -> bytes:
    font = _register_font(font_path)
    title = ParagraphStyle("title", fontName=font, fontSize=20, leading=28, spaceAfter=8 * mm)
    heading = ParagraphStyle("heading", fontName=font, fontSize=13, leading=18, spaceBefore=4 * mm, spaceAfter=2 * mm)
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14)
    story: list = []

    scope = report["office"]["name"] if report["office"] else report["bureau"]["name"]
    story += [Spacer(1, 40 * mm), Paragraph(f"{scope}", title),
              Paragraph("社区矫正周报 Weekly compliance report", heading),
              Paragraph(f"{report['week']}（{report['from']} 至 {report['to']}，{report['timezone']}）", body),
              Paragraph(f"生成时间 Generated: {report['generated_at']}", body)]
    if report["provisional"]:
        story.append(Paragraph("临时报告：本周尚未结束 Provisional: the week has not ended", heading))
    story.append(PageBreak())

    totals = report["totals"]
    change = report.get("change_from_previous_week") or {}
    story.append(Paragraph("总览 Totals", heading))
    story.append(_table(font, [["指标 Measure", "本周 This week", "较上周 Change"]] + [
        [label, _fmt(totals.get(key), key), _fmt(change.get(key), key, signed=True) if key in change else ""]
        for key, label in (("supervisees", "矫正对象 Supervisees"), ("expected", "应签 Expected"),
                           ("done", "已签 Done"), ("misses", "漏签 Missed"), ("on_time_rate", "按时率 On-time rate"),
                           ("spot_answered", "点验通过 Spot checks answered"), ("alerts", "预警 Alerts"),
                           ("zone_breaches", "越界 Zone breaches"), ("location_coverage", "定位覆盖 Coverage"),
                           ("points_earned", "得分 Points earned"), ("points_spent", "消费 Points spent"),
                           ("status_green", "绿码 Green"), ("status_yellow", "黄码 Yellow"), ("status_red", "红码 Red"))]))

    story.append(PageBreak())
    story.append(KeepTogether([Paragraph("每日签到合规 Daily check-in compliance", heading),
                               _bar_chart(font, report["daily"])]))
    story.append(KeepTogether([Paragraph("近八周按时率 On-time rate, last 8 weeks (%)", heading),
                               _line_chart(font, report["trend"])]))

    story.append(PageBreak())
    story.append(Paragraph("需关注 Needs attention", heading))
    attention = report["attention"]
    for key, label, field in (("most_misses", "漏签最多 Most misses", "misses"),
                              ("unresolved_alerts", "未处理预警 Unresolved alerts", "unresolved_alerts"),
                              ("out_of_contact_longest", "失联最久 Out of contact longest", "last_fix_at")):
        items = attention.get(key) or []
        text = "；".join(f"{i['name']}（{i['office']}）{i[field] or '从未定位 never'}" for i in items) or "无 none"
        story.append(Paragraph(f"{label}: {text}", body))

    story.append(Paragraph("预警处理 Alerts by type", heading))
    story.append(_table(font, [["类型 Type", "数量 Count", "已确认 Acknowledged", "中位确认(分) Median ack (min)",
                                "最长确认(分) Worst ack (min)"]] + [
        [a["type"], a["count"], a["acknowledged"], _minutes(a["median_ack_seconds"]), _minutes(a["worst_ack_seconds"])]
        for a in report["alerts_by_type"]] if report["alerts_by_type"] else [["无预警 No alerts"]]))

    story.append(PageBreak())
    story.append(Paragraph("逐人明细 Per supervisee", heading))
    header = ["ID", "姓名", "司法所", "等级", "应签", "已签", "漏签", "按时率", "点验", "预警", "越界", "覆盖", "得分", "消费", "码"]
    story.append(_table(font, [header] + [
        [r["supervisee_id"], r["name"], r["office"], r["level"], r["expected"], r["done"], r["misses"],
         _fmt(r["on_time_rate"], "on_time_rate"), f"{r['spot_answered']}/{r['spot_requested']}", r["alerts"],
         r["zone_breaches"], _fmt(r["location_coverage"], "location_coverage"), r["points_earned"], r["points_spent"],
         r["status_colour"]] for r in report["supervisees"]], size=7, repeat=1))

    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=landscape(A4), title=report["title"], author="correction",
                                 leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm, bottomMargin=12 * mm)
    document.build(story)
    return buffer.getvalue()


def _table(font: str, rows: list[list], size: int = 9, repeat: int = 1) -> Table:
    table = Table([[str(c) for c in row] for row in rows], repeatRows=repeat)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), size),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde6f0")),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    return table


def _bar_chart(font: str, daily: list[dict]) -> Drawing:
    drawing = Drawing(240 * mm, 62 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 15 * mm, 8 * mm, 200 * mm, 48 * mm
    chart.data = [[d["done"] for d in daily], [d["missed"] for d in daily]]
    chart.categoryAxis.categoryNames = [d["date"][5:] for d in daily]
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = font
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor, chart.bars[1].fillColor = colors.HexColor("#2e8b57"), colors.HexColor("#c0392b")
    drawing.add(chart)
    drawing.add(String(220 * mm, 60 * mm, "绿: 已签 done", fontName=font, fontSize=8))
    drawing.add(String(220 * mm, 55 * mm, "红: 漏签 missed", fontName=font, fontSize=8))
    return drawing


def _line_chart(font: str, trend: list[dict]) -> Drawing:
    drawing = Drawing(240 * mm, 60 * mm)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 15 * mm, 8 * mm, 200 * mm, 45 * mm
    chart.data = [[round(100 * (t["on_time_rate"] or 0), 1) for t in trend]]
    chart.categoryAxis.categoryNames = [t["week"] for t in trend]
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = font
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = 0, 100
    chart.lines[0].strokeColor = colors.HexColor("#1f4e79")
    drawing.add(chart)
    return drawing


def _fmt(value, key: str, signed: bool = False) -> str:
    if value is None:
        return "—"
    if key in ("on_time_rate", "location_coverage"):
        return f"{value * 100:+.1f} 个百分点" if signed else f"{value * 100:.1f}%"
    return f"{value:+}" if signed else str(value)


def _minutes(seconds) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f}"
