"""Intercoder agreement on segments: percent agreement, Cohen's kappa, Krippendorff's alpha.

The unit of analysis is the *segment* (a speaker turn or a paragraph of one), never the
character: each coder either applied a code to a segment or did not. Only documents that
at least two of the compared coders have coded are measured, and by default only the
segments at least one of the coders applied some code to: moderator questions and small
talk that nobody coded would otherwise count as thousands of easy "agreements on
absence" (``units="all"`` keeps them).

Per code the data is a coders x segments matrix of 1 (code applied), 0 (not applied) and
missing (that coder did not decide on the segment: it lies in no document they marked
finished, and they neither coded nor reviewed it). The overall figures pool every
(segment, code) decision for the codes someone used. Confidence intervals come from a
bootstrap that resamples segments (all of a segment's code decisions travel together).

The pure functions :func:`percent_agreement`, :func:`cohen_kappa` and
:func:`krippendorff_alpha_nominal` work on plain lists and need no database.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Iterable, Sequence

import numpy as np

from ..config import MACHINE_CODER
from ..errors import FocusqaError
from ..store.reconcile import FINAL_CODER


# --------------------------------------------------------------------------- pure statistics
def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _as_matrix(a, b=None) -> list[list[Any]]:
    if b is not None:
        return [list(a), list(b)]
    return [list(row) for row in a]


def percent_agreement(a, b=None) -> float:
    """Share of units on which every coder who rated it gave the same value.

    Call with two coders' sequences, ``percent_agreement(a, b)``, or with a
    coders x units matrix, ``percent_agreement(matrix)``. ``None``/NaN is missing;
    units rated by fewer than two coders are left out. NaN when no unit is left.
    """
    matrix = _as_matrix(a, b)
    if len({len(row) for row in matrix}) > 1:
        raise ValueError("every coder needs one value per unit")
    agree = total = 0
    for unit in zip(*matrix):
        values = [v for v in unit if not _is_missing(v)]
        if len(values) < 2:
            continue
        total += 1
        agree += len(set(values)) == 1
    return agree / total if total else float("nan")


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Cohen's kappa for two coders over the units both rated (any number of categories).

    kappa = (p_o - p_e) / (1 - p_e). NaN when chance agreement is 1 (both coders used
    one and the same value throughout: there is nothing to correct for).
    """
    if len(a) != len(b):
        raise ValueError("both coders need one value per unit")
    pairs = [(x, y) for x, y in zip(a, b) if not _is_missing(x) and not _is_missing(y)]
    n = len(pairs)
    if n == 0:
        return float("nan")
    p_o = sum(x == y for x, y in pairs) / n
    cats = {x for x, _ in pairs} | {y for _, y in pairs}
    p_e = sum((sum(x == c for x, _ in pairs) / n) * (sum(y == c for _, y in pairs) / n) for c in cats)
    if math.isclose(p_e, 1.0):
        return float("nan")
    return (p_o - p_e) / (1 - p_e)


def krippendorff_alpha_nominal(matrix: Sequence[Sequence[Any]]) -> float:
    """Krippendorff's alpha (nominal) for a coders x units matrix; ``None``/NaN is missing.

    Built from the coincidence matrix: units with fewer than two values are not pairable
    and are dropped. NaN when only one value occurs (no expected disagreement).
    """
    rows = _as_matrix(matrix)
    if len({len(row) for row in rows}) > 1:
        raise ValueError("every coder needs one value per unit")
    coincidence: dict[tuple[Any, Any], float] = {}
    for unit in zip(*rows):
        values = [v for v in unit if not _is_missing(v)]
        m = len(values)
        if m < 2:
            continue
        for i, c in enumerate(values):
            for j, k in enumerate(values):
                if i != j:
                    coincidence[(c, k)] = coincidence.get((c, k), 0.0) + 1.0 / (m - 1)
    n_c: dict[Any, float] = {}
    for (c, _k), weight in coincidence.items():
        n_c[c] = n_c.get(c, 0.0) + weight
    n = sum(n_c.values())
    if n <= 1 or len(n_c) < 2:
        return float("nan")
    observed = sum(w for (c, k), w in coincidence.items() if c != k)
    expected = (n * n - sum(v * v for v in n_c.values())) / (n - 1)
    if expected == 0:
        return float("nan")
    return 1.0 - observed / expected


# --------------------------------------------------------------------- vectorised (binary)
def _binary_stats(values: np.ndarray) -> dict[str, np.ndarray]:
    """Per-unit additive statistics of a coders x units 0/1 matrix (NaN = missing).

    Everything the three coefficients need is a sum of these over units, so a bootstrap
    sample is a matrix product with resampling counts.
    """
    present = ~np.isnan(values)
    m = present.sum(axis=0)
    ones = np.nansum(values, axis=0)
    zeros = m - ones
    pairable = m >= 2
    stats = {
        "pairable": pairable.astype(float),
        "agree": (pairable & ((ones == 0) | (zeros == 0))).astype(float),
        # Krippendorff: disagreeing ordered pairs weighted 1/(m-1), and value counts
        "d": np.where(pairable, 2.0 * ones * zeros / np.maximum(m - 1, 1), 0.0),
        "n1": np.where(pairable, ones, 0.0),
        "n0": np.where(pairable, zeros, 0.0),
    }
    if values.shape[0] == 2:
        both = present.all(axis=0)
        a, b = np.nan_to_num(values[0]), np.nan_to_num(values[1])
        stats.update({"k_n": both.astype(float), "k_agree": (both & (a == b)).astype(float),
                      "k_a1": np.where(both, a, 0.0), "k_b1": np.where(both, b, 0.0)})
    return stats


def _coefficients(sums: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Percent agreement, kappa and alpha from (possibly bootstrap-batched) sums."""
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = np.where(sums["pairable"] > 0, sums["agree"] / sums["pairable"], np.nan)
        n = sums["n0"] + sums["n1"]
        expected = 2.0 * sums["n0"] * sums["n1"]
        alpha = np.where(expected > 0, 1.0 - (n - 1) * sums["d"] / expected, np.nan)
        out = {"percent": percent, "alpha": alpha}
        if "k_n" in sums:
            kn = sums["k_n"]
            p_o = sums["k_agree"] / kn
            pa, pb = sums["k_a1"] / kn, sums["k_b1"] / kn
            p_e = pa * pb + (1 - pa) * (1 - pb)
            kappa = np.where((kn > 0) & ~np.isclose(p_e, 1.0), (p_o - p_e) / (1 - p_e), np.nan)
            out["kappa"] = kappa
    return out


# ------------------------------------------------------------------------------ report
@dataclass
class Interval:
    low: float | None
    high: float | None


@dataclass
class CodeAgreement:
    """Agreement on one code (``code_id`` None: all codes pooled)."""

    code_id: str | None
    label: str
    units: int                      # segments (or segment x code decisions when pooled) compared
    applied: dict[str, int]         # how many units each coder applied the code to
    disagreements: int
    percent: float | None
    kappa: float | None
    alpha: float | None
    percent_ci: Interval = field(default_factory=lambda: Interval(None, None))
    kappa_ci: Interval = field(default_factory=lambda: Interval(None, None))
    alpha_ci: Interval = field(default_factory=lambda: Interval(None, None))


@dataclass
class AgreementReport:
    coders: list[str]
    documents: list[str]
    segments: int                   # segments compared (the units)
    per_code: list[CodeAgreement]
    overall: CodeAgreement
    bootstrap: int
    machine_threshold: float | None = None
    units: str = "coded"            # "coded": segments some coder coded; "all": every segment
    uncoded_segments: int = 0       # segments of the documents left out because nobody coded them
    compared: int = 0               # of ``segments``, those at least two coders decided on (the per-code units)

    def as_dict(self) -> dict:
        return asdict(self)

    def to_table(self) -> str:
        """A plain-text table for the terminal."""
        def fmt(x: float | None, pct: bool = False) -> str:
            if x is None:
                return "n/a"
            return f"{100 * x:.1f}%" if pct else f"{x:.2f}"

        def ci(iv: Interval, pct: bool = False) -> str:
            if iv.low is None or iv.high is None:
                return ""
            return f" [{fmt(iv.low, pct)}–{fmt(iv.high, pct)}]"

        headers = ["code", "units", *[f"n {c}" for c in self.coders], "diff", "agreement", "kappa", "alpha"]
        rows = []
        for item in [*self.per_code, self.overall]:
            rows.append([item.label, str(item.units), *[str(item.applied.get(c, 0)) for c in self.coders],
                         str(item.disagreements), fmt(item.percent, True) + ci(item.percent_ci, True),
                         fmt(item.kappa) + ci(item.kappa_ci), fmt(item.alpha) + ci(item.alpha_ci)])
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
        scope = (f"{self.segments} segments coded by at least one of them "
                 f"({self.uncoded_segments} uncoded segments left out)" if self.units == "coded"
                 else f"all {self.segments} segments")
        if self.compared != self.segments:
            scope += f", {self.compared} of them decided on by at least two"
        lines = [f"Coders: {', '.join(self.coders)}; {len(self.documents)} documents, {scope}; "
                 f"95% bootstrap intervals from {self.bootstrap} resamples",
                 "  ".join(h.ljust(w) for h, w in zip(headers, widths)),
                 "  ".join("-" * w for w in widths)]
        for i, r in enumerate(rows):
            if i == len(rows) - 1:
                lines.append("  ".join("-" * w for w in widths))
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)))
        return "\n".join(lines)


@dataclass(frozen=True)
class Disagreement:
    document: str
    segment_id: int
    segment_index: int
    text: str
    code_id: str
    a: bool
    b: bool
    turn_number: int = 0    # "tur N" as every page and export shows it
    document_id: int = 0    # so a page can link to the turn in Kodning


# ------------------------------------------------------------------------- loading data
@dataclass
class _Data:
    coders: list[str]
    codes: list[str]
    labels: dict[str, str]
    segments: list[tuple[int, int, str, int, str]]   # (segment id, doc id, doc name, index, text)
    coded_docs: dict[str, set[int]]                  # coder -> documents the coder coded
    applied: dict[str, set[tuple[int, str]]]         # coder -> {(segment id, code)}
    covered: dict[str, set[int] | None]              # coder -> segments they decided on (None: whole documents)

    def decided(self, coder: str, segment_id: int, document_id: int) -> bool:
        """Whether the coder took a stand on this segment (else their value is missing)."""
        covered = self.covered[coder]
        return document_id in self.coded_docs[coder] if covered is None else segment_id in covered


def _resolve_documents(store, documents) -> set[int] | None:
    if documents is None:
        return None
    docs = store.documents()
    by_name = {d.name: d.id for d in docs}
    ids = {d.id for d in docs}
    wanted: set[int] = set()
    for item in documents:
        if isinstance(item, int) or (isinstance(item, str) and item.isdigit() and int(item) in ids):
            if int(item) not in ids:
                raise FocusqaError(f"no document with id {item}")
            wanted.add(int(item))
        elif item in by_name:
            wanted.add(by_name[item])
        else:
            raise FocusqaError(f"no document named '{item}'")
    return wanted


def _load(store, coders: list[str], documents, codes, machine_threshold: float | None) -> _Data:
    from sqlalchemy import select

    from ..store.models import Coding, Document, SegmentRow

    doc_filter = _resolve_documents(store, documents)
    codebook = store.codebook()
    code_ids = list(codes) if codes is not None else codebook.ids
    unknown = [c for c in code_ids if c not in codebook.ids]
    if unknown:
        raise FocusqaError(f"not in the codebook: {', '.join(unknown)}")
    labels = {c.id: c.heading() for c in codebook.codes}
    with store.session() as s:
        q = (select(Coding.segment_id, Coding.code_id, Coding.coder, Coding.origin, Coding.status,
                    Coding.score, SegmentRow.document_id)
             .join(SegmentRow, Coding.segment_id == SegmentRow.id)
             .where(Coding.coder.in_(coders)))
        rows = s.execute(q).all()
        seg_q = (select(SegmentRow.id, SegmentRow.document_id, Document.name, SegmentRow.index, SegmentRow.text)
                 .join(Document, SegmentRow.document_id == Document.id)
                 .order_by(Document.name, Document.id, SegmentRow.index))
        all_segments = s.execute(seg_q).all()
    coded_docs: dict[str, set[int]] = {c: set() for c in coders}
    applied: dict[str, set[tuple[int, str]]] = {c: set() for c in coders}
    touched: dict[str, set[int]] = {c: set() for c in coders}
    for seg_id, code_id, coder, origin, status, score, doc_id in rows:
        if doc_filter is not None and doc_id not in doc_filter:
            continue
        if coder == MACHINE_CODER:
            if origin != "auto":
                continue
            coded_docs[coder].add(doc_id)
            if machine_threshold is None or (score is not None and score >= machine_threshold):
                applied[coder].add((seg_id, code_id))
        else:
            coded_docs[coder].add(doc_id)
            touched[coder].add(seg_id)
            if status == "accepted":
                applied[coder].add((seg_id, code_id))
    double = {d for d in set().union(*coded_docs.values())
              if sum(d in coded_docs[c] for c in coders) >= 2}
    segments = [tuple(r) for r in all_segments if r[1] in double]
    finished = store.finished_documents()
    covered: dict[str, set[int] | None] = {}
    for coder in coders:
        if coder == MACHINE_CODER:  # the machine reads every turn of a document it ran over
            covered[coder] = None
            continue
        done = finished.get(coder, set())
        covered[coder] = touched[coder] | {seg_id for seg_id, doc_id, *_ in segments if doc_id in done}
    return _Data(coders, code_ids, labels, segments, coded_docs, applied, covered)


def _matrix(data: _Data, code_id: str) -> np.ndarray:
    values = np.full((len(data.coders), len(data.segments)), np.nan)
    for i, coder in enumerate(data.coders):
        for j, (seg_id, doc_id, *_rest) in enumerate(data.segments):
            if data.decided(coder, seg_id, doc_id):
                values[i, j] = 1.0 if (seg_id, code_id) in data.applied[coder] else 0.0
    return values


def _value(x: np.ndarray | float) -> float | None:
    x = float(x)
    return None if math.isnan(x) else round(x, 4)


def _interval(samples: np.ndarray) -> Interval:
    good = samples[~np.isnan(samples)]
    if good.size < max(10, 0.5 * samples.size):
        return Interval(None, None)
    low, high = np.percentile(good, [2.5, 97.5])
    return Interval(round(float(low), 4), round(float(high), 4))


def default_coders(store, include_machine: bool = False) -> list[str]:
    """Every human coder except the reconciled ``final`` coding (plus the machine if asked)."""
    coders = [c for c in store.coders() if c not in (FINAL_CODER, MACHINE_CODER)]
    if include_machine:
        coders.append(MACHINE_CODER)
    return coders


def agreement(store, coders: list[str] | None = None, *, documents: Iterable[int | str] | None = None,
              codes: Iterable[str] | None = None, include_machine: bool = False, bootstrap: int = 1000,
              random_state: int = 0, machine_threshold: float | None = None,
              units: str = "coded") -> AgreementReport:
    """Agreement between coders on the documents at least two of them coded.

    A human coder "applied" a code to a segment when their coding is accepted; a rejected
    coding counts as "not applied". With ``include_machine`` (or ``"focusqa"`` among
    ``coders``) the machine's suggestions count as another coder: every suggestion the
    machine wrote, whatever its review status, with score >= ``machine_threshold`` when
    one is given. A person counts on the turns they coded or reviewed, and on every turn
    of a document they marked finished (:meth:`Store.set_finished`; a reference import
    marks its documents); elsewhere they are *missing*, not "absent". ``units="coded"``
    (default) compares the segments at least one of the
    coders applied any of the codes to; ``units="all"`` every segment of the documents.
    """
    if units not in ("coded", "all"):
        raise FocusqaError("units must be 'coded' or 'all'")
    chosen = list(coders) if coders else default_coders(store, include_machine)
    if include_machine and MACHINE_CODER not in chosen:
        chosen.append(MACHINE_CODER)
    chosen = list(dict.fromkeys(chosen))
    if len(chosen) < 2:
        raise FocusqaError("agreement needs at least two coders; coders with codings: "
                           + (", ".join(store.coders()) or "none"))
    data = _load(store, chosen, documents, codes, machine_threshold)
    for coder in chosen:
        if not data.coded_docs[coder]:
            raise FocusqaError(f"coder '{coder}' has no codings in the selected documents")
    if not data.segments:
        raise FocusqaError("no document has been coded by at least two of: " + ", ".join(chosen))
    doc_names = sorted({name for _s, _d, name, _i, _t in data.segments})
    uncoded = 0
    if units == "coded":
        wanted = set(data.codes)
        touched = {seg for coder in chosen for seg, code in data.applied[coder] if code in wanted}
        kept = [row for row in data.segments if row[0] in touched]
        uncoded = len(data.segments) - len(kept)
        data.segments = kept
        if not kept:
            raise FocusqaError("none of the coders applied any of these codes in the documents they share")
    rng = np.random.default_rng(random_state)
    n = len(data.segments)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=bootstrap).astype(float) if bootstrap > 0 else None

    per_code: list[CodeAgreement] = []
    pooled: dict[str, np.ndarray] = {}
    pooled_applied = {c: 0 for c in chosen}
    compared = 0
    for code_id in data.codes:
        values = _matrix(data, code_id)
        # Who decided on a segment does not depend on the code: the same count for every code.
        compared = int((np.sum(~np.isnan(values), axis=0) >= 2).sum())
        stats = _binary_stats(values)
        applied = {c: int(np.nansum(values[i])) for i, c in enumerate(chosen)}
        used = any(applied.values())
        item = _summarise(code_id, data.labels.get(code_id, code_id), values, stats, counts, applied)
        per_code.append(item)
        if used:
            for key, vec in stats.items():
                pooled[key] = pooled.get(key, 0) + vec
            for c in chosen:
                pooled_applied[c] += applied[c]
    if pooled:
        overall = _summarise(None, "Alle koder / all codes", None, pooled, counts, pooled_applied)
    else:
        overall = CodeAgreement(None, "Alle koder / all codes", 0, pooled_applied, 0, None, None, None)
    return AgreementReport(chosen, doc_names, n, per_code, overall, bootstrap,
                           machine_threshold if MACHINE_CODER in chosen else None, units, uncoded, compared)


def _summarise(code_id: str | None, label: str, values: np.ndarray | None, stats: dict[str, np.ndarray],
               counts: np.ndarray | None, applied: dict[str, int], units: int | None = None) -> CodeAgreement:
    point = _coefficients({k: np.asarray(v.sum()) for k, v in stats.items()})
    pairable = int(stats["pairable"].sum())
    disagreements = pairable - int(stats["agree"].sum())
    item = CodeAgreement(code_id, label, units if units is not None else pairable, applied, disagreements,
                         _value(point["percent"]), _value(point["kappa"]) if "kappa" in point else None,
                         _value(point["alpha"]))
    if counts is not None:
        boot = _coefficients({k: counts @ v for k, v in stats.items()})
        item.percent_ci = _interval(boot["percent"])
        item.alpha_ci = _interval(boot["alpha"])
        if "kappa" in boot:
            item.kappa_ci = _interval(boot["kappa"])
    return item


def disagreements(store, coder_a: str, coder_b: str, documents: Iterable[int | str] | None = None,
                  *, codes: Iterable[str] | None = None,
                  machine_threshold: float | None = None) -> list[Disagreement]:
    """Every (segment, code) on which the two coders differ, in documents both coded.

    Ordered by document, segment and code: the list a team works through to reconcile.
    """
    if coder_a == coder_b:
        raise FocusqaError("choose two different coders")
    data = _load(store, [coder_a, coder_b], documents, codes, machine_threshold)
    out: list[Disagreement] = []
    for seg_id, doc_id, doc_name, index, text in data.segments:
        if not (data.decided(coder_a, seg_id, doc_id) and data.decided(coder_b, seg_id, doc_id)):
            continue
        for code_id in data.codes:
            a = (seg_id, code_id) in data.applied[coder_a]
            b = (seg_id, code_id) in data.applied[coder_b]
            if a != b:
                out.append(Disagreement(doc_name, seg_id, index, text, code_id, a, b, document_id=doc_id))
    if out:
        turns = {s.id: s.turn_number for s in store.segments(ids={d.segment_id for d in out})}
        out = [replace(d, turn_number=turns[d.segment_id]) for d in out]
    return out
