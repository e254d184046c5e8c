"""The progress chart (PNG): per area, the share answered right and the predicted share remembered."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from knowledge.articles import AREAS as AREA_NAMES
from quizzes.progress import Progress


def progress_chart(progress: Progress) -> bytes:
    labels = [AREA_NAMES[row.area].replace(" og ", " og\n").replace(" kompetencer", "") for row in progress.areas]
    accuracy = [100 * (row.accuracy or 0) for row in progress.areas]
    retention = [100 * (row.retention or 0) for row in progress.areas]
    figure, axis = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    positions = range(len(labels))
    axis.barh([p + 0.2 for p in positions], accuracy, height=0.38, color="#7fb2e0", label="Svaret rigtigt")
    axis.barh([p - 0.2 for p in positions], retention, height=0.38, color="#517da2", label="Husker nu (forventet)")
    axis.set_yticks(list(positions), labels)
    axis.invert_yaxis()
    axis.set_xlim(0, 100)
    axis.set_xlabel("%")
    axis.set_title("Dit fremskridt pr. område")
    axis.legend(loc="lower right", fontsize=8)
    axis.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def retention_chart(series: list[dict]) -> bytes:
    """Predicted retention per area over time, for a campaign (one line per area)."""
    by_area: dict[str, list[tuple[str, float]]] = {}
    for row in series:
        by_area.setdefault(row["area"], []).append((row["day"], 100 * row["retention"]))
    figure, axis = plt.subplots(figsize=(7.0, 3.6), dpi=100)
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
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
