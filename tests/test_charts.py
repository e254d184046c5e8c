"""The progress chart draws the bars it is given, over a background drawn once."""

from __future__ import annotations

import io

from PIL import Image

from bot.telegram import charts
from quizzes.bank import AREAS
from quizzes.progress import AreaProgress, Progress

ACCURACY_COLOUR = (0x7F, 0xB2, 0xE0)
RETENTION_COLOUR = (0x51, 0x7D, 0xA2)


def progress_of(correct_percent: list[int], retention_percent: list[int]) -> Progress:
    rows = [AreaProgress(area=area, questions_in_bank=100, seen=10, answers=100, correct=correct,
                         retention=retention / 100, due_now=0, next_due=None)
            for area, correct, retention in zip(AREAS, correct_percent, retention_percent, strict=True)]
    return Progress(areas=rows, streak_days=1, total_answers=100)


def colour_at(png: bytes, value: float, row: float) -> tuple[int, int, int]:
    """The colour at data point (value %, row) of the chart."""
    axis = charts._chart.axis
    x, y = axis.transData.transform((value, row))
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return image.getpixel((round(x), image.height - round(y)))


def test_bars_have_the_lengths_given() -> None:
    png = charts.progress_chart(progress_of([90, 10, 50, 0], [30, 80, 50, 0]))
    assert Image.open(io.BytesIO(png)).size == (780, 640)  # about 390 px wide on a phone: labels >= 12 px
    # accuracy bars sit 0.2 below each area's row, retention bars 0.2 above (the y axis is inverted)
    assert colour_at(png, 85, 0 + 0.2) == ACCURACY_COLOUR
    assert colour_at(png, 95, 0 + 0.2) != ACCURACY_COLOUR
    assert colour_at(png, 25, 0 - 0.2) == RETENTION_COLOUR
    assert colour_at(png, 35, 0 - 0.2) != RETENTION_COLOUR
    assert colour_at(png, 75, 1 - 0.2) == RETENTION_COLOUR
    assert colour_at(png, 15, 1 + 0.2) != ACCURACY_COLOUR


def test_a_new_chart_does_not_keep_the_bars_of_the_last() -> None:
    charts.progress_chart(progress_of([100, 100, 100, 100], [100, 100, 100, 100]))
    png = charts.progress_chart(progress_of([5, 5, 5, 5], [5, 5, 5, 5]))
    for row in range(4):
        assert colour_at(png, 50, row + 0.2) != ACCURACY_COLOUR
        assert colour_at(png, 50, row - 0.2) != RETENTION_COLOUR


def test_same_bars_drawn_once() -> None:
    first = charts.progress_chart(progress_of([40, 41, 42, 43], [20, 21, 22, 23]))
    again = charts.progress_chart(progress_of([40, 41, 42, 43], [20.2, 21, 22, 23]))  # same whole percents
    assert again is first
