// Keyboard shortcuts on Kodning (focusqa). No value goes to Python: a key presses the
// page's own button, so a shortcut does exactly what the click does.
//
//   J / K  next / previous turn        A  accept the focused suggestion
//   N / P  next / previous page        X  reject the focused suggestion
//   U      undo the latest change
//
// The focused turn has a blue outline and its first suggestion a blue background; a click
// in a turn focuses it. When a turn's last suggestion is decided by key, the focus moves
// on to the next turn with a suggestion. Keys typed into a field are left alone.

const TURN = /(?:^|\s)st-key-turn_(\d+)(?:\s|$)/;

function turns() {
  return [...document.querySelectorAll('[class*="st-key-turn_"]')].filter((el) => TURN.test(el.className));
}

const turnId = (el) => el.className.match(TURN)[1];
const turnOf = (id) => turns().find((el) => turnId(el) === id) || null;
const firstButton = (turn, kind) => turn?.querySelector(`[class*="st-key-${kind}_"] button`) || null;
const keyClass = (el, prefix) => [...el.classList].find((c) => c.startsWith(prefix)) || null;

function editable(target) {
  return target instanceof Element
    && !!target.closest('input, textarea, select, [contenteditable=""], [contenteditable=true], [role=combobox], [role=listbox]');
}

function install() {
  // chosen: the focus was set by the coder (J/K, a click, a decision), not picked by us.
  const state = {focus: null, chosen: false, pending: null, scheduled: false};
  const style = document.createElement("style");
  style.id = "fq-keys-style";
  document.head.appendChild(style);

  const withSuggestion = (list) => list.filter((el) => firstButton(el, "accept"));
  const nextWithSuggestion = (after) => {
    const list = turns();
    const rest = list.slice(list.findIndex((el) => turnId(el) === after) + 1);
    return withSuggestion(rest)[0] || null;
  };

  function paint() {
    const turn = state.focus && turnOf(state.focus);
    if (!turn) {
      style.textContent = "";
      return;
    }
    const rules = [`.st-key-turn_${state.focus} { outline: 2px solid #1c83e1; outline-offset: 3px; }`];
    const accept = firstButton(turn, "accept");
    const row = accept && accept.closest('[class*="st-key-suggestion_"]');
    const rowClass = row && keyClass(row, "st-key-suggestion_");
    if (rowClass) rules.push(`.${CSS.escape(rowClass)} { background: #e8f1fb; border-radius: 0.4rem; }`);
    const css = rules.join("\n");
    if (style.textContent !== css) style.textContent = css;
  }

  function refresh() {
    state.scheduled = false;
    const list = turns();
    if (!list.length) return paint();
    if (state.pending && !document.querySelector(`.${CSS.escape(state.pending)}`)) {
      state.pending = null;  // the decided suggestion is gone: its run is over
      const turn = turnOf(state.focus);
      if (turn && !firstButton(turn, "accept")) {
        const next = nextWithSuggestion(state.focus);
        if (next) {
          state.focus = turnId(next);
          next.scrollIntoView({block: "nearest"});
        }
      }
    }
    if (!state.focus || !turnOf(state.focus) || !state.chosen) {
      // Until the coder moves, the focus is the first turn with a suggestion, picked again
      // as the turns are drawn: on a busy machine the suggestions arrive after the turns.
      state.chosen = false;
      state.focus = turnId(withSuggestion(list)[0] || list[0]);
    }
    paint();
  }

  const schedule = () => {
    if (!state.scheduled) {
      state.scheduled = true;
      requestAnimationFrame(refresh);
    }
  };

  function move(step) {
    const list = turns();
    if (!list.length) return;
    const at = list.findIndex((el) => turnId(el) === state.focus);
    const next = list[Math.min(list.length - 1, Math.max(0, at + step))];
    state.focus = turnId(next);
    state.chosen = true;
    next.scrollIntoView({block: "nearest"});
    paint();
  }

  function decide(kind) {
    state.chosen = true;
    const turn = turnOf(state.focus);
    const button = firstButton(turn, kind);
    if (!button) {  // nothing to decide here: go to the next turn that has a suggestion
      const next = nextWithSuggestion(state.focus);
      if (next) {
        state.focus = turnId(next);
        next.scrollIntoView({block: "nearest"});
        paint();
      }
      return;
    }
    state.pending = keyClass(button.closest(`[class*="st-key-${kind}_"]`), `st-key-${kind}_`);
    button.click();
  }

  function press(selector) {
    const button = document.querySelector(selector);
    if (button && !button.disabled) {
      state.focus = null;
      state.chosen = false;
      button.click();
    }
  }

  const actions = {
    j: () => move(1),
    k: () => move(-1),
    a: () => decide("accept"),
    x: () => decide("reject"),
    n: () => press("[data-testid=stPaginationNext]"),
    p: () => press("[data-testid=stPaginationPrev]"),
    u: () => press(".st-key-coding_undo button"),
  };

  function onKey(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (editable(event.target) || document.querySelector(".fq-menu:not([hidden])")) return;
    const action = actions[event.key.toLowerCase()];
    if (!action || !turns().length) return;
    event.preventDefault();
    action();
  }

  function onPointer(event) {
    const turn = event.target instanceof Element && event.target.closest('[class*="st-key-turn_"]');
    if (turn && TURN.test(turn.className)) {
      state.focus = turnId(turn);
      state.chosen = true;
      paint();
    }
  }

  const observer = new MutationObserver(schedule);
  observer.observe(document.body, {childList: true, subtree: true});
  document.addEventListener("keydown", onKey);
  document.addEventListener("mouseup", onPointer, true);  // not on mousedown: restyling then ends a drag
  schedule();
  return {
    state,
    dispose() {
      observer.disconnect();
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("mouseup", onPointer, true);
      style.remove();
    },
  };
}

export default function () {
  // One set of listeners per browser tab, however often the page is drawn.
  if (!window.fqCodingKeys) window.fqCodingKeys = install();
  return () => {
    window.fqCodingKeys?.dispose();
    window.fqCodingKeys = null;
  };
}
