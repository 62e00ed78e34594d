"""Sammenlign runder: each district × code in two rounds, the change with its interval, the quotes.

The numbers come from :func:`focusqa.analysis.rounds.compare_rounds`; a change is
flagged only when its 95 % interval excludes zero. The page draws the change as a
heatmap, lists themes that are new in or gone from the later round, and shows the
excerpts of both rounds next to each other for a chosen cell.
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd
import streamlit as st

from focusqa.analysis import opening_comparison, round_order
from focusqa.analysis.rounds import compare_rounds, side_by_side
from focusqa.errors import FocusqaError
from focusqa.i18n import messages
from focusqa.store import Excerpt, Store
from views.common import (cached, cell_click_handler, choice_within, code_label, fmt_number, fmt_percent, get_store,
                          language, load_codebook, load_coded_rounds, md_escape, paginate, relabelled,
                          require_documents, show_error, tr, with_chosen_cell)
from views.common import heatmap_spec as common_heatmap_spec

PAGE_SIZE = 8
ROW_KEY, CODE_KEY, CHART_KEY = "rounds_row", "rounds_code", "rounds_chart"

STRINGS = messages("rounds")

def pp(value: float | None, decimals: int = 0) -> str:
    """A share difference in percentage points ("+12", "−5"; interval ends with one decimal)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    number = fmt_number(abs(value) * 100, decimals)
    if not number.strip("0,."):
        return number
    return ("+" if value > 0 else "−") + number


@cached
def _compare(_store: Store, url: str, round_a: str, round_b: str, by: str, statuses: tuple) -> pd.DataFrame:
    return compare_rounds(_store, round_a, round_b, by=by, statuses=statuses)


@cached
def _side_by_side(_store: Store, url: str, row: str, code_id: str, round_a: str, round_b: str, by: str,
                  statuses: tuple) -> tuple[list[Excerpt], list[Excerpt]]:
    return side_by_side(_store, row, code_id, round_a, round_b, by=by, statuses=statuses)


def controls(rounds: list[str], coded_rounds: set[str]) -> tuple[str, str, str, tuple]:
    """The two rounds (opening on the two newest with codes), row kind and statuses."""
    cols = st.columns([1, 1, 2], vertical_alignment="bottom")   # the row choice whole at 1280 px
    first, second = opening_comparison(rounds, coded_rounds)
    round_a = cols[0].selectbox(tr(STRINGS, "round_a"), rounds, index=rounds.index(first), key="rounds_a")
    round_b = cols[1].selectbox(tr(STRINGS, "round_b"), rounds, index=rounds.index(second), key="rounds_b")
    by_names = {b: tr(STRINGS, f"by_{b}") for b in ("district", "group")}
    by = cols[2].segmented_control(tr(STRINGS, "by"), list(by_names), required=True,
                                   key=relabelled(choice_within("rounds_by", list(by_names), "district")),
                                   format_func=by_names.get)
    suggestions = st.toggle(tr(STRINGS, "suggestions"), key="rounds_suggestions",
                            help=tr(STRINGS, "suggestions_help"))
    return round_a, round_b, by or "district", ("accepted", "suggested") if suggestions else ("accepted",)


_on_cell_click = cell_click_handler(CHART_KEY, ROW_KEY, CODE_KEY, "_rounds_seen_selection")


@cached
def _change_spec(_store: Store, _codebook, url: str, round_a: str, round_b: str, by: str, statuses: tuple,
                 lang: str, version: int) -> dict:
    """The change heatmap's Vega-Lite spec, built (and validated by Altair) once per comparison."""
    frame = _compare(_store, url, round_a, round_b, by, statuses)
    return change_spec(frame, _codebook, round_a, round_b, by)


def change_heatmap(store: Store, codebook, round_a: str, round_b: str, by: str, statuses: tuple) -> None:
    st.subheader(tr(STRINGS, "chart", a=round_a, b=round_b), help=tr(STRINGS, "chart_help"))
    spec = with_chosen_cell(_change_spec(store, codebook, store.url, round_a, round_b, by, statuses, language(),
                                         codebook.version), st.session_state.get(ROW_KEY), st.session_state.get(CODE_KEY))
    st.vega_lite_chart(spec=spec, key=CHART_KEY, on_select=_on_cell_click,
                       selection_mode=["cell", "cell_number"], width="stretch")


def change_spec(frame: pd.DataFrame, codebook, round_a: str, round_b: str, by: str) -> dict:
    """Rows × codes coloured by the change; ▲/▼ marks changes that clear their interval."""
    data = frame.copy()
    data["label"] = [code_label(codebook.get(c)) for c in data["code_id"]]
    data["change_pp"] = data["change"] * 100
    data["text"] = [("▲ " if f and c > 0 else "▼ " if f else "") + pp(c)
                    for c, f in zip(data["change"], data["flagged"])]
    data["prev_a_text"] = [fmt_percent(None if math.isnan(v) else v) for v in data["prev_a"]]
    data["prev_b_text"] = [fmt_percent(None if math.isnan(v) else v) for v in data["prev_b"]]
    data["ci_text"] = [f"{pp(lo, 1)} … {pp(hi, 1)}" for lo, hi in zip(data["ci_low"], data["ci_high"])]
    data["status_text"] = [tr(STRINGS, f"status_{s}") if s else "" for s in data["status"]]
    data["change_pp"] = data["change_pp"].astype(float)
    rows = list(dict.fromkeys(data["row"]))
    limit = max(10.0, float(data["change_pp"].abs().max(skipna=True) or 0.0))
    row_title = tr(STRINGS, f"by_{by}")
    tooltip = [alt.Tooltip("row:N", title=row_title), alt.Tooltip("label:N", title=tr(STRINGS, "code")),
               alt.Tooltip("prev_a_text:N", title=tr(STRINGS, "col_prev", r=round_a)),
               alt.Tooltip("prev_b_text:N", title=tr(STRINGS, "col_prev", r=round_b)),
               alt.Tooltip("text:N", title=tr(STRINGS, "col_change")),
               alt.Tooltip("ci_text:N", title=tr(STRINGS, "col_ci")),
               alt.Tooltip("status_text:N", title=tr(STRINGS, "col_status"))]
    return common_heatmap_spec(
        data, codebook, list(dict.fromkeys(data["code_id"])), rows, row_title, tooltip=tooltip, font_size=13,
        color=alt.Color("change_pp:Q", title=tr(STRINGS, "change_pp"),
                        scale=alt.Scale(scheme="redblue", domain=[-limit, limit]), legend=alt.Legend(orient="right")),
        text="text:N",
        text_color=alt.condition(f"abs(datum.change_pp) > {limit * 0.6}", alt.value("white"), alt.value("#1f2d3d")))


def new_and_gone(frame: pd.DataFrame, codebook, round_a: str, round_b: str, by: str) -> None:
    """Two short lists: codes that appear in, or disappear from, a row (district or group) in
    the later round."""
    cols = st.columns(2)
    for col, status, key in ((cols[0], "new", "new"), (cols[1], "gone", "gone")):
        with col:
            st.markdown(f"**{tr(STRINGS, key, a=round_a, b=round_b)}**",
                        help=tr(STRINGS, f"{key}_help_{by}", a=round_a, b=round_b))
            items = frame[frame["status"] == status]
            if items.empty:
                st.caption(tr(STRINGS, "none"))
            for _, item in items.iterrows():
                n = item["n_b"] if status == "new" else item["n_a"]
                st.markdown(f"- {md_escape(item['row'])}: {md_escape(code_label(codebook.get(item['code_id'])))} ({n})")


def numbers_table(frame: pd.DataFrame, codebook, round_a: str, round_b: str, by: str) -> None:
    """Every row × code with both prevalences, the change and its interval."""
    st.subheader(tr(STRINGS, "table"))
    only = st.toggle(tr(STRINGS, "only_flagged"), key="rounds_only_flagged")
    shown = frame[frame["flagged"] | (frame["status"] != "")] if only else frame
    table = pd.DataFrame({
        tr(STRINGS, f"by_{by}"): shown["row"],
        tr(STRINGS, "col_code"): [code_label(codebook.get(c)) for c in shown["code_id"]],
        tr(STRINGS, "col_prev", r=round_a): shown["prev_a"] * 100,
        tr(STRINGS, "col_n", r=round_a): [f"{n}/{t}" for n, t in zip(shown["n_a"], shown["total_a"])],
        tr(STRINGS, "col_prev", r=round_b): shown["prev_b"] * 100,
        tr(STRINGS, "col_n", r=round_b): [f"{n}/{t}" for n, t in zip(shown["n_b"], shown["total_b"])],
        tr(STRINGS, "col_change"): [pp(c) if not math.isnan(c) else tr(STRINGS, "not_interviewed")
                                    for c in shown["change"]],
        tr(STRINGS, "col_flag"): shown["flagged"],
        tr(STRINGS, "col_ci"): [f"{pp(lo, 1)} … {pp(hi, 1)}" if not math.isnan(lo) else ""
                                for lo, hi in zip(shown["ci_low"], shown["ci_high"])],
        tr(STRINGS, "col_status"): [tr(STRINGS, f"status_{s}") if s else "" for s in shown["status"]],
    })
    percent = st.column_config.NumberColumn(format="%.0f %%")
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        tr(STRINGS, "col_code"): st.column_config.TextColumn(width="medium"),
        tr(STRINGS, "col_prev", r=round_a): percent, tr(STRINGS, "col_prev", r=round_b): percent})


def excerpt_card(e: Excerpt) -> None:
    with st.container(border=True):
        st.markdown(md_escape(e.text))
        s = e.segment
        st.caption(" · ".join([f"**{md_escape(s.speaker or tr(STRINGS, 'unknown_speaker'))}**",
                               md_escape(s.document), tr(STRINGS, "segment", n=s.turn_number)]))


def default_cell(frame: pd.DataFrame) -> None:
    """Choose the cell with the largest change when nothing (valid) is chosen yet."""
    if frame.empty:
        return
    if st.session_state.get(ROW_KEY) not in set(frame["row"]):
        st.session_state[ROW_KEY] = frame["row"].iloc[0]
    if st.session_state.get(CODE_KEY) not in set(frame["code_id"]):
        ranked = frame.assign(size=frame["change"].abs().fillna(-1)).sort_values("size", ascending=False)
        st.session_state[ROW_KEY], st.session_state[CODE_KEY] = ranked.iloc[0]["row"], ranked.iloc[0]["code_id"]


def cell_quotes(store: Store, frame: pd.DataFrame, codebook, round_a: str, round_b: str, by: str,
                statuses: tuple) -> None:
    """Choose a cell; its numbers, then the excerpts of the two rounds in two columns."""
    st.subheader(tr(STRINGS, "cell"))
    rows = list(dict.fromkeys(frame["row"]))
    codes = list(dict.fromkeys(frame["code_id"]))
    default_cell(frame)
    labels = {c: code_label(codebook.get(c)) for c in codes}
    cols = st.columns(2)
    row = cols[0].selectbox(tr(STRINGS, f"by_{by}"), rows, key=ROW_KEY)
    code_id = cols[1].selectbox(tr(STRINGS, "code"), codes, key=relabelled(CODE_KEY), format_func=labels.get)
    item = frame[(frame["row"] == row) & (frame["code_id"] == code_id)].iloc[0]
    st.markdown(tr(STRINGS, "cell_summary", a=round_a, b=round_b, n_a=item["n_a"], t_a=item["total_a"],
                   n_b=item["n_b"], t_b=item["total_b"],
                   p_a=fmt_percent(None if math.isnan(item["prev_a"]) else item["prev_a"]),
                   p_b=fmt_percent(None if math.isnan(item["prev_b"]) else item["prev_b"])))
    if not math.isnan(item["change"]):
        st.caption(tr(STRINGS, "cell_change", change=pp(item["change"]), low=pp(item["ci_low"], 1),
                      high=pp(item["ci_high"], 1)) + " "
                   + tr(STRINGS, "flagged" if item["flagged"] else "not_flagged"))
    excerpts_a, excerpts_b = _side_by_side(store, store.url, row, code_id, round_a, round_b, by, statuses)
    left, right = st.columns(2)
    for col, name, excerpts in ((left, round_a, excerpts_a), (right, round_b, excerpts_b)):
        with col:
            st.markdown(f"#### {tr(STRINGS, 'excerpts', r=name, n=len(excerpts))}")
            if not excerpts:
                st.caption(tr(STRINGS, "no_excerpts", r=name))
            for e in paginate(excerpts, key=f"rounds_page_{name}_{row}_{code_id}", page_size=PAGE_SIZE):
                excerpt_card(e)


def main() -> None:
    st.title(tr(STRINGS, "title"))
    intro = st.empty()                        # names the rows chosen below (districts or groups)
    intro.caption(tr(STRINGS, "intro_district"))
    store = get_store()
    docs = require_documents(store)
    rounds = round_order(d.round for d in docs)
    if len(rounds) < 2:
        st.info(tr(STRINGS, "need_two", rounds=", ".join(rounds) or "–"))
        return
    round_a, round_b, by, statuses = controls(rounds, load_coded_rounds(store))
    intro.caption(tr(STRINGS, f"intro_{by}"))
    if round_a == round_b:
        st.warning(tr(STRINGS, "same_round"))
        return
    codebook = load_codebook(store)
    try:
        frame = _compare(store, store.url, round_a, round_b, by, statuses)
    except FocusqaError as error:
        show_error(error)
        return
    if frame.empty:
        st.info(tr(STRINGS, "need_two", rounds=", ".join(rounds)))
        return
    default_cell(frame)                    # before the heatmap, so it frames the chosen cell at once
    change_heatmap(store, codebook, round_a, round_b, by, statuses)
    st.caption(tr(STRINGS, "caveat"))
    new_and_gone(frame, codebook, round_a, round_b, by)
    numbers_table(frame, codebook, round_a, round_b, by)
    st.divider()
    try:
        cell_quotes(store, frame, codebook, round_a, round_b, by, statuses)
    except FocusqaError as error:
        show_error(error)


main()
