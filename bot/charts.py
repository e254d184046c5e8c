"""The progress chart (PNG): per area, the share answered right and the predicted share remembered."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from knowledge.articles import AREAS as AREA_NAMES
from quizzes.progress import Progress

# matplotlib's object API (Figure + Agg canvas), not pyplot: pyplot keeps global state and is not
# safe from the worker threads the charts are drawn in.


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


_recent: dict[str, bytes] = {}


def progress_chart(progress: Progress) -> bytes:
    """The chart, drawn once per distinct progress (asking twice without answering draws nothing)."""
    key = repr(progress)
    if key not in _recent:
        if len(_recent) >= 500:
            _recent.pop(next(iter(_recent)))
        _recent[key] = _draw_progress(progress)
    return _recent[key]


def _draw_progress(progress: Progress) -> bytes:
    labels = [AREA_NAMES[row.area].replace(" og ", " og\n").replace(" kompetencer", "") for row in progress.areas]
    accuracy = [100 * (row.accuracy or 0) for row in progress.areas]
    retention = [100 * (row.retention or 0) for row in progress.areas]
    figure = Figure(figsize=(6.4, 4.0), dpi=100)
    axis = figure.add_subplot()
    positions = range(len(labels))
    axis.barh([p + 0.2 for p in positions], accuracy, height=0.38, color="#7fb2e0", label="Svaret rigtigt")
    axis.barh([p - 0.2 for p in positions], retention, height=0.38, color="#517da2", label="Husker nu (forventet)")
    axis.set_yticks(list(positions), labels)
    axis.invert_yaxis()
    axis.set_xlim(0, 100)
    axis.set_title("Dit fremskridt pr. område")
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8, frameon=False)
    axis.grid(axis="x", alpha=0.3)
    figure.subplots_adjust(left=0.30, right=0.97, top=0.91, bottom=0.2)  # fixed: tight_layout costs a third
    return _png(figure)


def retention_chart(series: list[dict]) -> bytes:
    """Predicted retention per area over time, for a campaign (one line per area)."""
    by_area: dict[str, list[tuple[str, float]]] = {}
    for row in series:
        by_area.setdefault(row["area"], []).append((row["day"], 100 * row["retention"]))
    figure = Figure(figsize=(7.0, 3.6), dpi=100)
    axis = figure.add_subplot()
    for area, points in sorted(by_area.items()):
        days = [day[5:] for day, _ in points]
        axis.plot(days, [value for _, value in points], marker="o", label=AREA_NAMES.get(area, area))
    if not by_area:
        axis.text(0.5, 0.5, "Ingen svar endnu", ha="center", va="center", transform=axis.transAxes)
    axis.set_ylim(0, 100)
    axis.set_ylabel("Forventet husket (%)")
    axis.set_title("Forventet hukommelse pr. område over tid")
    axis.grid(alpha=0.3)
    if by_area:
        axis.legend(fontsize=8, loc="lower left")
    figure.autofmt_xdate()
    figure.tight_layout()
    return _png(figure)
