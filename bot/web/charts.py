"""The dashboard's chart (PNG): a campaign's predicted retention per area over time."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from knowledge.articles import AREAS as AREA_NAMES

# matplotlib's object API (Figure + Agg canvas), not pyplot: pyplot keeps global state and is not
# safe from the worker threads the charts are drawn in.


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def retention_chart(series: list[dict]) -> bytes:
    """Predicted retention per area over time, for a campaign (one line per area)."""
    by_area: dict[str, list[tuple[str, float]]] = {}
    for row in series:
        by_area.setdefault(row["area"], []).append((row["day"], 100 * row["retention"]))
    figure = Figure(figsize=(7.0, 3.6), dpi=100)
    axis = figure.add_subplot()
    for area, points in sorted(by_area.items()):
        days = [f"{day[8:10]}.{day[5:7]}" for day, _ in points]  # dd.mm, as Danes write dates
        axis.plot(days, [value for _, value in points], marker="o", label=AREA_NAMES.get(area, area))
    if not by_area:
        axis.text(0.5, 0.5, "For tidligt at sige: for få svar endnu", ha="center", va="center",
                  transform=axis.transAxes)
    axis.set_ylim(0, 100)
    axis.set_ylabel("Forventet husket (%)")
    axis.set_title("Forventet hukommelse pr. område over tid")
    axis.grid(alpha=0.3)
    if by_area:
        axis.legend(fontsize=8, loc="lower left")
    figure.autofmt_xdate()
    figure.tight_layout()
    return _png(figure)
