"""Where Kodning is: the interview, page, highlighted turn, filters and view as URL query parameters.

Kodning keeps its place in the address (``/kodning?interview=3&side=2&tur=51&status=open``),
so a browser reload lands on the same turns and a link from another page opens a given
interview at a given turn. The values are stable across languages: a document id, a turn
number as the pages show it, code ids, and the status, speaker and view keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import streamlit as st

CODING_PAGE = "views/coding.py"
PARAMS = ("interview", "side", "tur", "kode", "status", "taler", "visning")


@dataclass(frozen=True)
class Place:
    """One position in Kodning; the defaults are what an unfiltered first visit shows."""

    document_id: int | None = None
    page: int = 1
    turn: int | None = None
    codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    role: str = "all"
    view: str = "read"

    def as_params(self) -> dict[str, str | list[str]]:
        """The query parameters of this place, leaving out the defaults."""
        out: dict[str, str | list[str]] = {}
        if self.document_id is not None:
            out["interview"] = str(self.document_id)
        if self.page != 1:
            out["side"] = str(self.page)
        if self.turn is not None:
            out["tur"] = str(self.turn)
        if self.codes:
            out["kode"] = list(self.codes)
        if self.statuses:
            out["status"] = list(self.statuses)
        if self.role != "all":
            out["taler"] = self.role
        if self.view != "read":
            out["visning"] = self.view
        return out

    @classmethod
    def from_params(cls, params: Any) -> Place | None:
        """The place a URL names, or None when it names none (e.g. after a click in the sidebar).

        ``params`` is ``st.query_params`` (or a dict of str / list of str); numbers
        that do not parse are left at their default.
        """
        if not any(name in params for name in PARAMS):
            return None

        def values(name: str) -> tuple[str, ...]:
            if name not in params:
                return ()
            raw = params.get_all(name) if hasattr(params, "get_all") else params[name]
            items = [raw] if isinstance(raw, str) else list(raw)
            return tuple(dict.fromkeys(v for v in items if v))

        def number(name: str) -> int | None:
            found = values(name)
            return int(found[-1]) if found and found[-1].isdigit() else None

        return cls(document_id=number("interview"), page=max(1, number("side") or 1), turn=number("tur"),
                   codes=values("kode"), statuses=values("status"),
                   role=(values("taler") or ("all",))[-1], view=(values("visning") or ("read",))[-1])


def coding_link(document_id: int, turn: int | None = None, *, statuses: Iterable[str] = ()) -> dict:
    """The query parameters of a link that opens ``document_id`` in Kodning at ``turn``."""
    return Place(document_id=document_id, turn=turn, statuses=tuple(statuses)).as_params()


def write_place(place: Place) -> None:
    """Make Kodning's parameters in the address equal ``place``; other parameters stay."""
    wanted = place.as_params()
    current = {name: st.query_params.get_all(name) for name in PARAMS if name in st.query_params}
    if current == {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}:
        return
    for name in PARAMS:
        if name in st.query_params and name not in wanted:
            del st.query_params[name]
    if wanted:
        st.query_params.update(wanted)


def open_in_coding_link(document_id: int, turn: int | None, label: str, *, where: Any = st) -> None:
    """A small "Åbn i Kodning" link to one turn (``label`` in the page's language)."""
    where.page_link(CODING_PAGE, label=label, icon=":material/edit_note:", query_params=coding_link(document_id, turn))
