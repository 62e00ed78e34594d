"""Enighed: intercoder agreement per code, the disagreements, and reconciling them.

Statistics come from :func:`focusqa.analysis.agreement.agreement` (segments as units,
percent agreement, Cohen's kappa, Krippendorff's alpha, bootstrap intervals);
disagreements from :func:`~focusqa.analysis.agreement.disagreements`; a decision is
stored by :func:`focusqa.store.reconcile.reconcile`, which writes its own audit entry
naming who decided.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from focusqa.analysis.agreement import AgreementReport, Disagreement, agreement, disagreements
from focusqa.config import MACHINE_CODER
from focusqa.errors import FocusqaError
from focusqa.i18n import messages
from focusqa.store import Store
from focusqa.store.reconcile import FINAL_CODER, decisions, reconcile
from views.common import (SCORE_STEPS, after_write, cached, choice_within, code_label, code_tag, coder_name,
                          column_width, error_text, flash, fmt_number, fmt_percent, get_store, load_codebook,
                          load_coders, load_documents, local_time, md_escape, paginate, relabelled, require_documents,
                          show_error, show_flashes, tr)
from views.place import open_in_coding_link

PAGE_SIZE = 10
BOOTSTRAP = 1000
ALL = "__all__"

STRINGS = messages("agreement_page")

def number(value: float | None) -> str:
    return tr(STRINGS, "not_computed") if value is None else fmt_number(value, 2)


def percent(value: float | None) -> str:
    return tr(STRINGS, "not_computed") if value is None else fmt_percent(value, 1)


# ------------------------------------------------------------------ cached analysis
@cached
def _report(_store: Store, url: str, coders: tuple, documents: tuple | None, threshold: float | None) -> AgreementReport:
    return agreement(_store, list(coders), documents=list(documents) if documents else None,
                     bootstrap=BOOTSTRAP, machine_threshold=threshold)


@cached
def _disagreements(_store: Store, url: str, a: str, b: str, documents: tuple | None,
                   threshold: float | None) -> list[Disagreement]:
    return disagreements(_store, a, b, list(documents) if documents else None, machine_threshold=threshold)


@cached
def _decisions(_store: Store, url: str, segment_ids: tuple) -> dict:
    return decisions(_store, segment_ids)


# ------------------------------------------------------------------ widgets
def controls(store: Store, coders: list[str]) -> tuple[list[str], tuple | None, float | None]:
    """Coders (optionally plus the machine), documents, and the machine's score threshold."""
    docs = load_documents(store)
    cols = st.columns(2)
    chosen = cols[0].multiselect(tr(STRINGS, "coders"), coders, default=coders, key="agreement_coders",
                                 help=tr(STRINGS, "coders_help"), placeholder=tr(STRINGS, "coders_ph"),
                                 select_all=False)
    names = {d.id: d.name for d in docs}
    picked = cols[1].multiselect(tr(STRINGS, "documents"), list(names), key="agreement_documents",
                                 format_func=names.get, help=tr(STRINGS, "documents_help"),
                                 placeholder=tr(STRINGS, "all").lower(), select_all=False)
    cols = st.columns([2, 1, 1], vertical_alignment="center")
    machine = cols[0].toggle(tr(STRINGS, "machine"), key="agreement_machine", help=tr(STRINGS, "machine_help"))
    threshold = None
    if machine:
        value = cols[1].select_slider(tr(STRINGS, "threshold"), SCORE_STEPS, value=0.0, key="agreement_threshold",
                                      format_func=lambda v: fmt_number(v, 2), help=tr(STRINGS, "threshold_help"))
        threshold = value or None
    chosen = list(chosen) + ([MACHINE_CODER] if machine else [])
    return chosen, (tuple(picked) if picked else None), threshold


def coder_display(name: str) -> str:
    return tr(STRINGS, "machine_name") if name == MACHINE_CODER else name


def overall_metrics(report: AgreementReport) -> None:
    item = report.overall
    names = ", ".join(md_escape(coder_display(c)) for c in report.coders)
    if report.compared == report.segments:
        st.markdown(tr(STRINGS, "measured", docs=len(report.documents), segments=fmt_number(report.segments),
                       names=names))
    else:   # a coder has not finished some interviews: only the turns two decided on are compared
        st.markdown(tr(STRINGS, "measured_partly", docs=len(report.documents), segments=fmt_number(report.segments),
                       compared=fmt_number(report.compared), names=names))
    cols = st.columns(3)

    def interval(iv, fmt) -> str:
        if iv.low is None or iv.high is None:
            return tr(STRINGS, "no_interval")
        return tr(STRINGS, "interval", low=fmt(iv.low), high=fmt(iv.high))

    cols[0].metric(tr(STRINGS, "percent"), percent(item.percent))
    cols[0].caption(interval(item.percent_ci, percent))
    cols[1].metric(tr(STRINGS, "kappa"), number(item.kappa) if len(report.coders) == 2 else "–")
    cols[1].caption(interval(item.kappa_ci, number) if len(report.coders) == 2 else tr(STRINGS, "kappa_two"))
    cols[2].metric(tr(STRINGS, "alpha"), number(item.alpha))
    cols[2].caption(interval(item.alpha_ci, number))
    st.caption(tr(STRINGS, "guide"))


def counted_documents(store: Store, report: AgreementReport, documents: tuple | None) -> None:
    """Which interviews the figures cover, and per coder whether all their turns count (færdigkodet)."""
    docs = load_documents(store)
    finished = store.finished_documents()
    measured = set(report.documents)
    with st.expander(tr(STRINGS, "which"), key="agreement_which"):
        st.caption(tr(STRINGS, "which_intro"))
        rows = []
        for d in docs:
            if d.name not in measured:
                continue
            row = {tr(STRINGS, "col_document"): d.name}
            for coder in report.coders:
                row[coder_display(coder)] = tr(STRINGS, "which_machine") if coder == MACHINE_CODER else tr(
                    STRINGS, "which_finished" if d.id in finished.get(coder, set()) else "which_partial")
            rows.append(row)
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                     column_config={tr(STRINGS, "col_document"): st.column_config.TextColumn(width="large")})
        left_out = [d.name for d in docs if d.name not in measured and (documents is None or d.id in documents)]
        if left_out:
            st.caption(tr(STRINGS, "which_left_out", docs=", ".join(md_escape(n) for n in left_out)))


def per_code_table(report: AgreementReport, codebook) -> None:
    """One line per code plus the pooled line, with the three coefficients and intervals."""
    st.subheader(tr(STRINGS, "per_code"))

    def with_ci(value, iv, fmt) -> str:
        if value is None or iv.low is None or iv.high is None:
            return fmt(value)
        return f"{fmt(value)}  ({fmt(iv.low)} – {fmt(iv.high)})"

    records = []
    for item in [*report.per_code, report.overall]:
        label = tr(STRINGS, "all_codes") if item.code_id is None else code_label(codebook.get(item.code_id))
        # The coefficients first: on a narrow page the counts, not the agreement, scroll away.
        record = {tr(STRINGS, "col_code"): label,
                  tr(STRINGS, "col_percent"): with_ci(item.percent, item.percent_ci, percent)}
        if len(report.coders) == 2:
            record[tr(STRINGS, "col_kappa")] = with_ci(item.kappa, item.kappa_ci, number)
        record[tr(STRINGS, "col_alpha")] = with_ci(item.alpha, item.alpha_ci, number)
        record[tr(STRINGS, "col_units")] = item.units
        record[tr(STRINGS, "col_diff")] = item.disagreements
        for coder in report.coders:
            record[tr(STRINGS, "col_used", coder=coder_display(coder))] = item.applied.get(coder, 0)
        records.append(record)
    st.caption(tr(STRINGS, "table_note"))
    # widths so that two coders' table fits the page: "100,0 %  (100,0 % – 100,0 %)", "0,82  (0,63 – 0,94)"
    config = {tr(STRINGS, "col_units"): st.column_config.NumberColumn(help=tr(STRINGS, "units_help"), width=65),
              tr(STRINGS, "col_code"): st.column_config.TextColumn(
                  width=column_width([r[tr(STRINGS, "col_code")] for r in records], least=205, most=360), pinned=True),
              tr(STRINGS, "col_diff"): st.column_config.NumberColumn(width=60),
              tr(STRINGS, "col_percent"): st.column_config.TextColumn(width=180)}
    for key in ("col_kappa", "col_alpha"):
        config[tr(STRINGS, key)] = st.column_config.TextColumn(width=115)
    for coder in report.coders:
        name = coder_display(coder)
        config[tr(STRINGS, "col_used", coder=name)] = st.column_config.NumberColumn(
            help=tr(STRINGS, "used_help", coder=md_escape(name)), width=max(60, 8 * len(name)))
    st.dataframe(pd.DataFrame.from_records(records), hide_index=True, width="stretch", column_config=config)


def _decide(segment_id: int, code_id: str, present: bool, document: str, turn_number: int) -> None:
    """Button callback: store the team's decision (audited with the decider's name)."""
    store = get_store()
    try:
        reconcile(store, segment_id, code_id, present=present, decided_by=coder_name())
    except FocusqaError as error:
        flash("error", error_text(error))
        return
    after_write()
    code = store.codebook().get(code_id)
    flash("success", tr(STRINGS, "reconciled", who=md_escape(coder_name()), code=md_escape(code_label(code)),
                        what=tr(STRINGS, "what_yes" if present else "what_no"), n=turn_number, doc=document))


def disagreement_list(store: Store, codebook, coders: list[str], documents: tuple | None,
                      threshold: float | None) -> None:
    """The two chosen coders' disagreements, filterable, paginated, each with the two decisions."""
    st.subheader(tr(STRINGS, "disagreements"))
    names = {c: coder_display(c) for c in coders}
    cols = st.columns(4)
    a = cols[0].selectbox(tr(STRINGS, "pair_a"), coders, index=0, key="agreement_a", format_func=names.get)
    b = cols[1].selectbox(tr(STRINGS, "pair_b"), coders, index=1, key="agreement_b", format_func=names.get)
    if a == b:
        st.info(tr(STRINGS, "choose_two"))
        return
    items = _disagreements(store, store.url, a, b, documents, threshold)
    doc_names = [ALL] + sorted({d.document for d in items})
    code_ids = [ALL] + [c for c in codebook.ids if any(d.code_id == c for d in items)]
    doc_labels = {ALL: tr(STRINGS, "all")} | {d: d for d in doc_names[1:]}
    code_labels = {ALL: tr(STRINGS, "all")} | {c: code_label(codebook.get(c)) for c in code_ids[1:]}
    doc = cols[2].selectbox(tr(STRINGS, "filter_document"), doc_names, format_func=doc_labels.get,
                            key=relabelled(choice_within("agreement_filter_document", doc_names, ALL)))
    code = cols[3].selectbox(tr(STRINGS, "filter_code"), code_ids, format_func=code_labels.get,
                             key=relabelled(choice_within("agreement_filter_code", code_ids, ALL)))
    show_decided = st.toggle(tr(STRINGS, "show_decided"), key="agreement_show_decided")
    items = [d for d in items if (doc == ALL or d.document == doc) and (code == ALL or d.code_id == code)]
    decided = _decisions(store, store.url, tuple(sorted({d.segment_id for d in items})))
    open_items = [d for d in items if (d.segment_id, d.code_id) not in decided]
    shown = items if show_decided else open_items
    key = "count_all" if show_decided else "count"
    st.markdown(tr(STRINGS, f"{key}_one" if len(shown) == 1 else key, n=len(shown),
                   decided=len(items) - len(open_items)))
    others = [tr(STRINGS, "pair_count", a=md_escape(names[x]), b=md_escape(names[y]), n=n)
              for x, y, n in other_pairs(store, coders, (a, b), documents, threshold, doc, code) if n]
    if others:   # with three or more coders, the pair shown is not the whole story
        st.caption(tr(STRINGS, "other_pairs", pairs="; ".join(others)))
    if not shown:
        st.caption(tr(STRINGS, "none"))
        return
    decider = store.project_coder(coder_name()) if coder_name() else None
    if decider is None:
        st.info(tr(STRINGS, "need_name"))
    elif not decider.is_reviewer:
        st.info(tr(STRINGS, "need_reviewer"))
    for position, item in enumerate(paginate(shown, "agreement_page", page_size=PAGE_SIZE)):
        disagreement_card(item, codebook, a, b, decided.get((item.segment_id, item.code_id)), position,
                          enabled=decider is not None and decider.is_reviewer)


def other_pairs(store: Store, coders: list[str], shown: tuple[str, str], documents: tuple | None,
                threshold: float | None, doc: str, code: str) -> list[tuple[str, str, int]]:
    """Every other pair of the chosen coders with its undecided disagreements (same filters)."""
    out = []
    for i, x in enumerate(coders):
        for y in coders[i + 1:]:
            if {x, y} == set(shown):
                continue
            items = [d for d in _disagreements(store, store.url, x, y, documents, threshold)
                     if (doc == ALL or d.document == doc) and (code == ALL or d.code_id == code)]
            decided = _decisions(store, store.url, tuple(sorted({d.segment_id for d in items})))
            out.append((x, y, sum((d.segment_id, d.code_id) not in decided for d in items)))
    return out


def disagreement_card(item: Disagreement, codebook, a: str, b: str, decision: bool | None, position: int,
                      *, enabled: bool) -> None:
    code = codebook.get(item.code_id)
    with st.container(border=True):
        st.markdown(f"{code_tag(code)} <small>{md_escape(item.document)} · "
                    f"{tr(STRINGS, 'turn', n=item.turn_number)}</small>", unsafe_allow_html=True)
        st.markdown(md_escape(item.text))
        said = lambda coder, applied: f"**{md_escape(coder_display(coder))}** " + tr(  # noqa: E731
            STRINGS, "applied" if applied else "not_applied")
        st.caption(f"{said(a, item.a)} · {said(b, item.b)}")
        if decision is not None:
            st.caption(tr(STRINGS, "decided_yes" if decision else "decided_no"))
        args = (item.segment_id, item.code_id)
        with st.container(horizontal=True):
            st.button(tr(STRINGS, "yes"), key=f"reconcile_yes_{position}", disabled=not enabled,
                      on_click=_decide, args=(*args, True, item.document, item.turn_number),
                      icon=":material/check_circle:")
            st.button(tr(STRINGS, "no"), key=f"reconcile_no_{position}", disabled=not enabled,
                      on_click=_decide, args=(*args, False, item.document, item.turn_number),
                      icon=":material/cancel:")
            open_in_coding_link(item.document_id, item.turn_number, tr(STRINGS, "open_coding"))


def recent_decisions(store: Store, codebook) -> None:
    """The latest reconcile entries from the audit log: who decided what, and when."""
    with st.expander(tr(STRINGS, "recent"), key="agreement_recent"):
        entries = [e for e in store.audit_log(entity="coding", limit=500) if e.action == "reconcile"][:20]
        if not entries:
            st.caption(tr(STRINGS, "no_recent"))
            return
        segments = {s.id: s for s in store.segments(ids=[e.after["segment_id"] for e in entries if e.after])}
        rows = []
        for e in entries:
            after = e.after or {}
            seg = segments.get(after.get("segment_id"))
            rows.append({
                tr(STRINGS, "col_at"): local_time(e.at),
                tr(STRINGS, "col_by"): e.actor,
                tr(STRINGS, "col_turn"): f"{seg.document} · {tr(STRINGS, 'turn', n=seg.turn_number)}" if seg else "",
                tr(STRINGS, "col_code"): code_label(codebook.get(after["code_id"])) if after.get("code_id") in codebook.ids
                else after.get("code_id", ""),
                tr(STRINGS, "col_decision"): tr(STRINGS, "what_yes" if after.get("status") == "accepted" else "what_no"),
            })
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config={
            tr(STRINGS, "col_code"): st.column_config.TextColumn(
                width=column_width([r[tr(STRINGS, "col_code")] for r in rows], least=150, most=360))})


def main() -> None:
    st.title(tr(STRINGS, "title"))
    st.caption(tr(STRINGS, "intro", n=fmt_number(BOOTSTRAP)))
    show_flashes()
    store = get_store()
    require_documents(store)
    codebook = load_codebook(store)
    coders = [c for c in load_coders(store) if c not in (FINAL_CODER, MACHINE_CODER)]
    if len(coders) < 2 and not st.session_state.get("agreement_machine"):
        st.info(tr(STRINGS, "need_two", coders=", ".join(map(md_escape, coders)) or "–"))
        if not coders:
            return
    chosen, documents, threshold = controls(store, coders)
    if len(chosen) < 2:
        st.info(tr(STRINGS, "choose_two"))
        return
    try:
        report = _report(store, store.url, tuple(chosen), documents, threshold)
    except FocusqaError as error:
        show_error(error)
        return
    overall_metrics(report)
    per_code_table(report, codebook)
    counted_documents(store, report, documents)
    st.divider()
    try:
        disagreement_list(store, codebook, chosen, documents, threshold)
    except FocusqaError as error:
        show_error(error)
    recent_decisions(store, codebook)


main()
