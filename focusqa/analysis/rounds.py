"""Comparing two rounds (2016 vs 2017) cell by cell, with a confidence interval.

Prevalence is the share of a row's participant segments that carry the code (the
same numbers as :mod:`focusqa.analysis.themes`). The change is ``prev_b - prev_a``
with a 95 % interval by Newcombe's hybrid score method (method 10 in Newcombe 1998:
Wilson score intervals of each proportion combined), which behaves well for small
counts and proportions near 0 or 1, where the Wald interval fails.

A caveat the app and the docs repeat: segments of one focus group are not independent
observations (one talkative participant adds many), so the interval is narrower than
the truth. A flag means "large enough to look at the quotes", not a significance test.
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import pandas as pd

from ..store import Excerpt, Store
from . import By, row_order
from .themes import code_excerpts, theme_matrix

Z95 = 1.959963984540054
COLUMNS = ["row", "code_id", "n_a", "total_a", "prev_a", "n_b", "total_b", "prev_b", "change",
           "ci_low", "ci_high", "flagged", "status"]


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes out of n (n > 0)."""
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(k_a: int, n_a: int, k_b: int, n_b: int, z: float = Z95) -> tuple[float, float]:
    """95 % interval for ``k_b/n_b - k_a/n_a`` (Newcombe's hybrid score method)."""
    p_a, p_b = k_a / n_a, k_b / n_b
    l_a, u_a = wilson_interval(k_a, n_a, z)
    l_b, u_b = wilson_interval(k_b, n_b, z)
    d = p_b - p_a
    low = d - math.sqrt((p_b - l_b) ** 2 + (u_a - p_a) ** 2)
    high = d + math.sqrt((u_b - p_b) ** 2 + (p_a - l_a) ** 2)
    return low, high


def compare_rounds(store: Store, round_a: str, round_b: str, *, by: By = "district",
                   statuses: Iterable[str] = ("accepted",),
                   coders: Iterable[str] | None = None) -> pd.DataFrame:
    """One line per row × code comparing ``round_a`` (earlier) with ``round_b`` (later).

    Columns: row, code_id, n_a, total_a, prev_a, n_b, total_b, prev_b, change
    (prev_b - prev_a), ci_low, ci_high (Newcombe hybrid score 95 % interval),
    flagged (the interval excludes 0), status ("new": absent in a, present in b;
    "gone": the other way; else ""). A row present in only one round has no
    prevalence in the other (NaN), no change, no flag and no status: a theme cannot
    be "new" in a district that was not interviewed before.
    """
    statuses = tuple(statuses)
    a = theme_matrix(store, round=round_a, by=by, statuses=statuses, coders=coders)
    b = theme_matrix(store, round=round_b, by=by, statuses=statuses, coders=coders)
    rows = row_order(list(a.rows) + list(b.rows))
    records = []
    for row in rows:
        total_a = int(a.totals.get(row, 0))
        total_b = int(b.totals.get(row, 0))
        for code_id in a.codes:
            n_a = int(a.counts.at[row, code_id]) if row in a.counts.index else 0
            n_b = int(b.counts.at[row, code_id]) if row in b.counts.index else 0
            prev_a = n_a / total_a if total_a else np.nan
            prev_b = n_b / total_b if total_b else np.nan
            if total_a and total_b:
                change = prev_b - prev_a
                low, high = newcombe_interval(n_a, total_a, n_b, total_b)
                flagged = low > 0 or high < 0
                status = "new" if n_a == 0 and n_b > 0 else "gone" if n_a > 0 and n_b == 0 else ""
            else:
                change = low = high = np.nan
                flagged, status = False, ""
            records.append({"row": row, "code_id": code_id, "n_a": n_a, "total_a": total_a,
                            "prev_a": prev_a, "n_b": n_b, "total_b": total_b, "prev_b": prev_b,
                            "change": change, "ci_low": low, "ci_high": high,
                            "flagged": bool(flagged), "status": status})
    frame = pd.DataFrame.from_records(records, columns=COLUMNS)
    frame.attrs.update({"round_a": round_a, "round_b": round_b, "by": by,
                        "method": "Newcombe hybrid score (Wilson) 95% interval"})
    return frame


def cell_excerpts(store: Store, row: str, code_id: str, round: str | None, *, by: By = "district",
                  statuses: Iterable[str] = ("accepted",),
                  coders: Iterable[str] | None = None) -> list[Excerpt]:
    """The participant excerpts of one row × code in one round (one per segment)."""
    rows = code_excerpts(store, code_id, round, by=by, statuses=statuses, coders=coders)
    return [item.excerpt for item in rows.get(row, [])]


def side_by_side(store: Store, row: str, code_id: str, round_a: str, round_b: str, *,
                 by: By = "district", statuses: Iterable[str] = ("accepted",)) -> tuple[list[Excerpt], list[Excerpt]]:
    """The cell's excerpts in each round, to read the two rounds next to each other."""
    return (cell_excerpts(store, row, code_id, round_a, by=by, statuses=statuses),
            cell_excerpts(store, row, code_id, round_b, by=by, statuses=statuses))


__all__ = ["compare_rounds", "side_by_side", "cell_excerpts", "newcombe_interval", "wilson_interval"]
