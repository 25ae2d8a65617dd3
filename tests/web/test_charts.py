"""Server-side SVG bar charts: accessible, CSP-safe, and always paired with a table."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest
from flask import Flask, render_template_string

from web.assets import STATIC_DIR, register_assets

ROWS: list[tuple[str, float]] = [("Referral", 12), ("Assessment", 6), ("Strategy", 0)]


@pytest.fixture
def page_app() -> Flask:
    app = Flask("charts_test", static_folder=str(STATIC_DIR))
    register_assets(app)
    return app


def chart(app: Flask, rows: Sequence[tuple[str, float]], macro: str = "bar_chart") -> str:
    with app.test_request_context("/"):
        return render_template_string(
            '{% from "macros/charts.html" import bar_chart, bar_chart_with_table %}'
            "{{ " + macro + "('Open cases by stage', rows, 'cases') }}",
            rows=rows,
        )


def bar_widths(html: str) -> list[float]:
    return [
        float(w) for w in re.findall(r'<rect class="tf-chart__bar"[^>]* width="([\d.]+)"', html)
    ]


def test_chart_is_an_image_whose_title_carries_the_figures(page_app: Flask) -> None:
    html = chart(page_app, ROWS)
    assert html.count('role="img"') == 1
    title_id = re.search(r'aria-labelledby="([^"]+)"', html)
    assert title_id is not None
    assert f'<title id="{title_id.group(1)}">' in html
    assert (
        "Open cases by stage: Referral: 12 cases; Assessment: 6 cases; Strategy: 0 cases</title>"
        in html
    )


def test_bars_are_horizontal_and_proportional(page_app: Flask) -> None:
    html = chart(page_app, ROWS)
    widths = bar_widths(html)
    assert widths == [330.0, 165.0, 0.0]
    ys = [int(y) for y in re.findall(r'<rect class="tf-chart__bar" x="\d+" y="(\d+)"', html)]
    assert ys == sorted(ys)  # first row at the top
    assert ">Referral</text>" in html
    assert ">12</text>" in html


def test_no_inline_styles_or_scripts(page_app: Flask) -> None:
    html = chart(page_app, ROWS, "bar_chart_with_table")
    assert "style=" not in html
    assert "<style" not in html
    assert "<script" not in html


def test_all_zero_and_empty_charts_render(page_app: Flask) -> None:
    assert bar_widths(chart(page_app, [("A", 0), ("B", 0)])) == [0.0, 0.0]
    empty = chart(page_app, [])
    assert "Open cases by stage: no data</title>" in empty
    assert bar_widths(empty) == []


def test_labels_are_escaped_and_long_labels_shortened(page_app: Flask) -> None:
    label = "<b>Child & family assessment with a long name</b>"
    html = chart(page_app, [(label, 3)])
    assert "<b>" not in html
    assert "&lt;b&gt;Child &amp; family assessment with a long name&lt;/b&gt;: 3 cases" in html
    assert "…</text>" in html


def test_large_and_decimal_figures(page_app: Flask) -> None:
    html = chart(page_app, [("A", 12345), ("B", 2.5)])
    assert "A: 12,345 cases; B: 2.5 cases" in html


def test_chart_with_table_shows_the_same_figures(page_app: Flask) -> None:
    html = chart(page_app, ROWS, "bar_chart_with_table")
    assert html.index("<svg") < html.index("<table")
    assert (
        '<caption class="govuk-table__caption govuk-table__caption--s">Open cases by stage' in html
    )
    assert '<th scope="col" class="govuk-table__header">Stage</th>' in html
    assert "govuk-table__header--numeric" in html
    assert ">Cases</th>" in html
    cells = re.findall(
        r'<td class="govuk-table__cell govuk-table__cell--numeric">([^<]+)</td>', html
    )
    assert cells == ["12", "6", "0"]
    row_heads = re.findall(r'<th scope="row" class="govuk-table__header">([^<]+)</th>', html)
    assert row_heads == ["Referral", "Assessment", "Strategy"]


def test_chart_ids_can_be_set(page_app: Flask) -> None:
    with page_app.test_request_context("/"):
        html = render_template_string(
            '{% from "macros/charts.html" import bar_chart %}'
            "{{ bar_chart('Cases', rows, 'cases', id='weekly') }}",
            rows=ROWS,
        )
    assert 'aria-labelledby="weekly-title"' in html
    assert '<title id="weekly-title">' in html
