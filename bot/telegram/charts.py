"""The progress chart (PNG): per area, the share answered right and the predicted share remembered."""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from knowledge.articles import AREAS as AREA_NAMES
from quizzes.bank import AREAS
from quizzes.progress import Progress

# matplotlib's object API (Figure + Agg canvas), not pyplot: pyplot keeps global state and is not
# safe from the worker threads the charts are drawn in.


class _ProgressChart:
    """The progress chart's axes, labels and legend are drawn once; each chart then only restores
    that background and draws its eight bars (matplotlib's blitting). A full draw costs about
    55 ms of CPU, this about 5 ms: /fremskridt is a common command."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one figure, shared by the worker threads
        labels = [AREA_NAMES[area].replace(" og ", " og\n").replace(" kompetencer", "") for area in AREAS]
        positions = range(len(labels))
        # 780 x 640 px, shown about 390 px wide on a phone: a 9 pt label is then 12.5 px on screen.
        self.figure = Figure(figsize=(3.9, 3.2), dpi=200)
        self.axis = self.figure.add_subplot()
        zeros = [0] * len(labels)
        self.accuracy_bars = self.axis.barh([p + 0.2 for p in positions], zeros, height=0.38, color="#7fb2e0",
                                            label="Svaret rigtigt", animated=True)
        self.retention_bars = self.axis.barh([p - 0.2 for p in positions], zeros, height=0.38, color="#517da2",
                                             label="Husker nu (forventet)", animated=True)
        self.axis.set_yticks(list(positions), labels, fontsize=9)
        self.axis.invert_yaxis()
        self.axis.set_xlim(0, 100)
        self.axis.set_xticks([0, 50, 100], ["0 %", "50 %", "100 %"], fontsize=9)
        self.axis.set_title("Dit fremskridt pr. område", fontsize=10)
        self.axis.legend(loc="upper center", bbox_to_anchor=(0.42, -0.1), ncol=1, fontsize=9, frameon=False)
        self.axis.grid(axis="x", alpha=0.3)
        self.figure.subplots_adjust(left=0.33, right=0.92, top=0.92, bottom=0.25)
        self.canvas = FigureCanvasAgg(self.figure)
        self.canvas.draw()  # animated bars are left out of this: the background
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)

    def png(self, accuracy: Sequence[int], retention: Sequence[int]) -> bytes:
        with self._lock:
            self.canvas.restore_region(self.background)
            for bars, values in ((self.accuracy_bars, accuracy), (self.retention_bars, retention)):
                for bar, value in zip(bars, values, strict=True):
                    bar.set_width(value)
                    self.axis.draw_artist(bar)
            pixels = np.asarray(self.canvas.buffer_rgba()).copy()
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)  # fast; about 24 kB
        return buffer.getvalue()


_chart: _ProgressChart | None = None
_chart_lock = threading.Lock()
_recent: dict[tuple, bytes] = {}


def progress_chart(progress: Progress) -> bytes:
    """Per area, the share answered right and the predicted share remembered, in whole percent.
    Drawn once per distinct set of bars: asking twice without answering draws nothing."""
    global _chart
    accuracy = [round(100 * (row.accuracy or 0)) for row in progress.areas]  # progress.areas follow AREAS
    retention = [round(100 * (row.retention or 0)) for row in progress.areas]
    key = (*accuracy, *retention)
    if key not in _recent:
        with _chart_lock:
            if _chart is None:
                _chart = _ProgressChart()
        if len(_recent) >= 500:
            _recent.pop(next(iter(_recent)), None)
        _recent[key] = _chart.png(accuracy, retention)
    return _recent[key]

