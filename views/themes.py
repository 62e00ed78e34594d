"""Temaer pr. distrikt: the district × code matrix of a round, and the quotes behind each cell.

The numbers come from :func:`focusqa.analysis.themes.theme_matrix` (the same matrix
``focusqa summary`` prints); this page only chooses, caches and draws. Choosing a
cell (click the heatmap, or the two boxes under it) shows the cell's excerpts, a
short extractive summary and which codes occur together with it.
"""

from __future__ import annotations


import altair as alt
import streamlit as st

from focusqa.analysis import opening_round, round_order, row_label
from focusqa.analysis.themes import CellSummary, ThemeMatrix, cell_summary, matrix_cooccurrence, theme_matrix
from focusqa.errors import FocusqaError
from focusqa.export.memo import synthesis_cell
from focusqa.i18n import messages
from focusqa.store import Excerpt, Store
from views.common import (cached, cell_click_handler, choice_within, code_label, coder_name, dark_from,
                          error_text, flash, fmt_number, fmt_percent, get_store, language, load_codebook,
                          load_coded_rounds, load_coders, md_escape, paginate, relabelled, require_documents,
                          show_error, show_flashes, tr, with_chosen_cell)
from views.common import heatmap_spec as common_heatmap_spec
from views.place import open_in_coding_link

PAGE_SIZE = 10
ROW_KEY, CODE_KEY, CHART_KEY = "themes_row", "themes_code", "themes_chart"
ALL_ROUNDS = "__all__"

STRINGS = messages("themes")

# ------------------------------------------------------------------ cached analysis
@cached
def _matrix(_store: Store, url: str, round: str | None, by: str, statuses: tuple,
            coders: tuple | None) -> ThemeMatrix:
    return theme_matrix(_store, round=round, by=by, statuses=statuses, coders=coders)


@cached
def _cell(_store: Store, url: str, round: str | None, by: str, statuses: tuple, coders: tuple | None,
          row: str, code_id: str) -> tuple[list[Excerpt], CellSummary | None]:
    """The chosen cell's excerpts and summary, read for that cell only (the matrix holds segment ids)."""
    matrix = _matrix(_store, url, round, by, statuses, coders).attach(_store)
    excerpts = matrix.excerpts(row, code_id)
    return excerpts, (cell_summary(matrix, row, code_id, n=3) if excerpts else None)


# ------------------------------------------------------------------ widgets
def controls(docs: list, coders: list[str], coded_rounds: set[str]) -> tuple[str | None, str, tuple, tuple | None]:
    """Round, row kind, statuses and coders chosen at the top of the page; the round starts
    as the newest one with codings."""
    rounds = round_order(d.round for d in docs)
    options = rounds + [ALL_ROUNDS]
    cols = st.columns([1, 1.4, 1.6], vertical_alignment="bottom")   # the row choice whole at 1280 px
    # Labels are looked up now, not when the widget formats them (AppTest formats outside the run).
    round_names = {r: r for r in rounds} | {ALL_ROUNDS: tr(STRINGS, "all_rounds")}
    by_names = {b: tr(STRINGS, f"by_{b}") for b in ("district", "group")}
    round_key = choice_within("themes_round", options, opening_round(rounds, coded_rounds) or ALL_ROUNDS)
    chosen = cols[0].selectbox(tr(STRINGS, "round"), options, format_func=round_names.get,
                               key=relabelled(round_key))
    by = cols[1].segmented_control(tr(STRINGS, "by"), list(by_names), required=True,
                                   key=relabelled(choice_within("themes_by", list(by_names), "district")),
                                   format_func=by_names.get)
    with cols[2].expander(tr(STRINGS, "more"), key="themes_more"):
        suggestions = st.toggle(tr(STRINGS, "suggestions"), key="themes_suggestions",
                                help=tr(STRINGS, "suggestions_help"))
        picked = st.multiselect(tr(STRINGS, "coders"), coders, key="themes_coders",
                                help=tr(STRINGS, "coders_help"), placeholder=tr(STRINGS, "coders_ph"), select_all=False)
    statuses = ("accepted", "suggested") if suggestions else ("accepted",)
    return (None if chosen == ALL_ROUNDS else chosen), by or "district", statuses, \
        (tuple(picked) if picked else None)


_on_cell_click = cell_click_handler(CHART_KEY, ROW_KEY, CODE_KEY, "_themes_seen_selection")


@cached
def _heatmap_spec(_store: Store, _codebook, url: str, args: tuple, lang: str, version: int) -> dict:
    """The heatmap's Vega-Lite spec, built (and validated by Altair) once per matrix and language."""
    return heatmap_spec(_matrix(_store, url, *args), _codebook)


def heatmap_spec(matrix: ThemeMatrix, codebook) -> dict:
    """Rows × codes; colour = share of the row's participant turns, text = count."""
    long = matrix.long()
    long["label"] = [code_label(codebook.get(c)) for c in long["code_id"]]
    long["share_text"] = [fmt_percent(s) for s in long["share"]]
    row_title = tr(STRINGS, "by_district") if matrix.by == "district" else tr(STRINGS, "by_group")
    tooltip = [alt.Tooltip("row:N", title=row_title), alt.Tooltip("label:N", title=tr(STRINGS, "code")),
               alt.Tooltip("count:Q", title=tr(STRINGS, "count")),
               alt.Tooltip("share_text:N", title=tr(STRINGS, "share")),
               alt.Tooltip("total:Q", title=tr(STRINGS, "segments"))]
    return common_heatmap_spec(
        long, codebook, matrix.codes, matrix.rows, row_title, tooltip=tooltip, font_size=14,
        color=alt.Color("share:Q", title=tr(STRINGS, "share"), scale=share_scale(long["share"]),
                        legend=alt.Legend(format="%", orient="right")),
        text=alt.Text("count:Q"),
        text_color=alt.condition(alt.datum.share > dark_from(long["share"]), alt.value("white"),
                                 alt.value("#1f2d3d")))


def share_scale(shares) -> alt.Scale:
    """Blues from 0; with nothing coded yet the scale runs to 100 %, so the empty cells are
    pale and the legend does not read "0.000000%" (a zero-width domain)."""
    empty = not len(shares) or float(max(shares)) == 0.0
    return alt.Scale(scheme="blues", domainMin=0, **({"domainMax": 1} if empty else {}))


def heatmap(store: Store, codebook, args: tuple) -> None:
    spec = with_chosen_cell(_heatmap_spec(store, codebook, store.url, args, language(), codebook.version),
                            st.session_state.get(ROW_KEY), st.session_state.get(CODE_KEY))
    st.vega_lite_chart(spec=spec, key=CHART_KEY, on_select=_on_cell_click,
                       selection_mode=["cell", "cell_number"], width="stretch")


def numbers_table(matrix: ThemeMatrix, codebook) -> None:
    """The matrix as two plain tables (counts, shares), with the row totals."""
    labels = {c: code_label(codebook.get(c)) for c in matrix.codes}
    with st.expander(tr(STRINGS, "table"), key="themes_table_open"):
        counts = matrix.counts.rename(columns=labels)
        counts.index.name = None
        counts[tr(STRINGS, "segments")] = matrix.totals
        counts[tr(STRINGS, "words")] = matrix.words
        st.caption(tr(STRINGS, "table_counts"))
        st.dataframe(counts, width="stretch")
        shares = (matrix.shares * 100).rename(columns=labels)
        shares.index.name = None
        st.caption(tr(STRINGS, "table_shares"))
        st.dataframe(shares, width="stretch", column_config={
            label: st.column_config.NumberColumn(label, format="%.0f %%") for label in labels.values()})


def default_cell(matrix: ThemeMatrix) -> None:
    """Choose the busiest row and its commonest code when nothing (valid) is chosen yet."""
    if st.session_state.get(ROW_KEY) not in matrix.rows:
        busiest = matrix.counts.sum(axis=1).idxmax()
        st.session_state[ROW_KEY] = busiest
    if st.session_state.get(CODE_KEY) not in matrix.codes:
        st.session_state[CODE_KEY] = matrix.counts.loc[st.session_state[ROW_KEY]].idxmax()


def choose_cell(matrix: ThemeMatrix, codebook) -> tuple[str, str]:
    """Two boxes (district, code); they follow clicks on the heatmap."""
    default_cell(matrix)
    cols = st.columns(2)
    row = cols[0].selectbox(tr(STRINGS, "by_district") if matrix.by == "district" else tr(STRINGS, "by_group"),
                            matrix.rows, key=ROW_KEY, help=tr(STRINGS, "cell_help"))
    labels = {c: code_label(codebook.get(c)) for c in matrix.codes}
    code_id = cols[1].selectbox(tr(STRINGS, "code"), matrix.codes, key=relabelled(CODE_KEY), format_func=labels.get)
    return row, code_id


def excerpt_card(e: Excerpt, *, show_coders: bool = True, memo_marks: set | None = None,
                 store: Store | None = None, key: str = "") -> None:
    """One quote with speaker, interview, round and turn number underneath (and, given the
    marks, a "Til notatet" box)."""
    with st.container(border=True):
        st.markdown(md_escape(e.text))
        s, c = e.segment, e.coding
        parts = [f"**{md_escape(s.speaker or tr(STRINGS, 'unknown_speaker'))}**", md_escape(s.document)]
        if s.round:
            parts.append(md_escape(s.round))
        parts.append(tr(STRINGS, "segment", n=s.turn_number))
        if show_coders:
            if c.status == "suggested":
                parts.append(tr(STRINGS, "suggested", score=fmt_number(c.score, 2)))
            else:
                parts.append(tr(STRINGS, "coded_by", coders=md_escape(c.coder)))
        st.caption(" · ".join(parts))
        for memo in e.memos:
            st.caption(f"{tr(STRINGS, 'memo')}: {md_escape(memo)}")
        row = st.container(horizontal=True, vertical_alignment="center")
        if memo_marks is not None and store is not None:
            with row:
                memo_mark_box(store, e, (s.id, c.code_id) in memo_marks, key)
        open_in_coding_link(s.document_id, s.turn_number, tr(STRINGS, "open_coding"), where=row)


def memo_mark_box(store: Store, e: Excerpt, marked: bool, key: str) -> None:
    """The "Til notatet" mark on one segment × code (saved at once)."""
    coder = coder_name()
    widget = f"memo_mark_{key}_{e.segment.id}_{e.coding.code_id}"

    def save() -> None:
        on = bool(st.session_state.get(widget))
        try:
            store.mark_for_memo(e.segment.id, e.coding.code_id, on, coder)
        except FocusqaError as error:
            flash("error", error_text(error))
            return
        flash("success", tr(STRINGS, "marked_memo" if on else "unmarked_memo"))

    st.checkbox(tr(STRINGS, "for_memo"), value=marked, key=widget, on_change=save, disabled=not coder,
                help=tr(STRINGS, "for_memo_help"))


def synthesis_editor(store: Store, matrix: ThemeMatrix, codebook, row: str, code_id: str,
                     excerpts: list[Excerpt]) -> None:
    """The evaluator's synthesis of this guide point for the cell's group (and district), next to its quotes."""
    group, district = synthesis_cell(row, matrix.by, [e.segment for e in excerpts])
    current = {x.district: x for x in store.syntheses() if x.code_id == code_id
               and x.group.casefold() == group.casefold()}
    coder = coder_name()
    st.markdown(f"#### {tr(STRINGS, 'synthesis')}", help=tr(STRINGS, "synthesis_help"))
    if not coder:
        st.caption(tr(STRINGS, "need_coder"))
    scope = f"{group}_{district}_{code_id}"
    with st.form(key=f"synthesis_{scope}", border=False):
        label = tr(STRINGS, "synthesis_group", group=md_escape(row_label(None, group, "group")),
                   code=md_escape(code_label(codebook.get(code_id))))
        whole = st.text_area(label, value=current[""].text if "" in current else "", height=140,
                             key=f"synthesis_text_{scope}")
        only = None
        if district:
            only = st.text_area(tr(STRINGS, "synthesis_district", district=md_escape(district)), height=80,
                                value=current[district].text if district in current else "",
                                key=f"synthesis_district_{scope}")
        if not st.form_submit_button(tr(STRINGS, "save_synthesis"), disabled=not coder):
            return
    try:
        store.save_synthesis(code_id, group, whole, coder,
                             expected_version=current[""].version if "" in current else 0)
        if only is not None:
            store.save_synthesis(code_id, group, only, coder, district=district,
                                 expected_version=current[district].version if district in current else 0)
    except FocusqaError as error:
        show_error(error)
        return
    st.success(tr(STRINGS, "saved_synthesis"))


def cell_details(store: Store, matrix: ThemeMatrix, codebook, row: str, code_id: str,
                 args: tuple) -> None:
    """The chosen cell: size, summary, every excerpt (paginated), co-occurring codes."""
    code = codebook.get(code_id)
    st.subheader(tr(STRINGS, "cell_heading", row=md_escape(row), code=md_escape(code_label(code))))
    n, total = int(matrix.counts.at[row, code_id]), int(matrix.totals[row])
    st.markdown(tr(STRINGS, "cell_metrics", n=fmt_number(n), total=fmt_number(total),
                   share=fmt_percent(float(matrix.shares.at[row, code_id]))))
    excerpts, summary = _cell(store, store.url, *args, row, code_id)
    if not excerpts or summary is None:
        st.info(tr(STRINGS, "cell_empty"))
        return
    st.markdown(f"#### {tr(STRINGS, 'summary')}", help=tr(STRINGS, "summary_help"))
    if summary.distinctive_terms:
        st.markdown(f"{tr(STRINGS, 'terms')}: " + " ".join(
            f":blue-badge[{md_escape(t)}]" for t in summary.distinctive_terms))
    else:
        st.caption(tr(STRINGS, "no_terms"))
    marks = store.memo_quotes()
    st.markdown(f"**{tr(STRINGS, 'representative')}**")
    for e in summary.representative:
        excerpt_card(e, show_coders=False, memo_marks=marks, store=store, key="rep")
    synthesis_editor(store, matrix, codebook, row, code_id, excerpts)
    st.markdown(f"#### {tr(STRINGS, 'excerpts', n=fmt_number(len(excerpts)))}")
    for e in paginate(excerpts, key=f"themes_page_{row}_{code_id}_{matrix.round}_{matrix.by}",
                      page_size=PAGE_SIZE):
        excerpt_card(e, memo_marks=marks, store=store, key="all")


def cooccurrence_table(matrix: ThemeMatrix, codebook, row: str) -> None:
    """Code × code counts for the chosen row (or every row)."""
    st.subheader(tr(STRINGS, "cooc"), help=tr(STRINGS, "cooc_help"))
    only_row = st.toggle(tr(STRINGS, "cooc_scope", row=md_escape(row)), value=True, key="themes_cooc_row")
    frame = matrix_cooccurrence(matrix, row=row if only_row else None)
    labels = {c: code_label(codebook.get(c)) for c in frame.columns}
    frame = frame.rename(index=labels, columns=labels)
    frame.index.name = None
    off_diagonal = frame.to_numpy().sum() - frame.to_numpy().trace()
    if off_diagonal == 0:
        st.caption(tr(STRINGS, "no_cooc"))
    st.dataframe(frame, width="stretch")


def main() -> None:
    heading, intro = st.empty(), st.empty()   # name the rows chosen below (districts or groups)
    heading.title(tr(STRINGS, "title_district"))
    intro.caption(tr(STRINGS, "intro_district"))
    show_flashes()
    store = get_store()
    docs = require_documents(store)
    codebook = load_codebook(store)
    args = controls(docs, load_coders(store), load_coded_rounds(store))
    heading.title(tr(STRINGS, f"title_{args[1]}"))
    intro.caption(tr(STRINGS, f"intro_{args[1]}"))
    try:
        matrix = _matrix(store, store.url, *args)
    except FocusqaError as error:
        show_error(error)
        return
    if matrix.counts.empty or int(matrix.totals.sum()) == 0:
        st.info(tr(STRINGS, "empty"))
        return
    if int(matrix.counts.to_numpy().sum()):
        default_cell(matrix)               # before the heatmap, so it frames the chosen cell at once
    heatmap(store, codebook, args)
    numbers_table(matrix, codebook)
    if int(matrix.counts.to_numpy().sum()) == 0:
        st.info(tr(STRINGS, "no_codings"))
        return
    st.divider()
    row, code_id = choose_cell(matrix, codebook)
    try:
        cell_details(store, matrix, codebook, row, code_id, args)
    except FocusqaError as error:
        show_error(error)
    st.divider()
    cooccurrence_table(matrix, codebook, row)


main()
