// A speaker turn's text that can be coded by selecting words (focusqa, Kodning).
//
// data: {text, runs: [[start, end, colour|null, title]], codes: [{id, label, colour}],
//        muted, strings: {menu, hint, close}}
// Offsets are code points into `text` (Python's str indexes). Selecting words with the
// mouse opens a small menu of codes at the selection; a click on a code, or its number
// key (1–9), sends the trigger "coded" = {start, end, code}. Escape closes the menu.
// All text is set with textContent, never as HTML.

const codePoints = (text, utf16) => Array.from(text.slice(0, utf16)).length;

function sliceByCodePoints(chars, start, end) {
  return chars.slice(start, end).join("");
}

function build(root, data) {
  const chars = Array.from(data.text);
  const body = document.createElement("div");
  body.className = "fq-text" + (data.muted ? " fq-muted" : "");
  for (const [start, end, colour, title] of data.runs) {
    const piece = sliceByCodePoints(chars, start, end);
    if (!colour) {
      body.appendChild(document.createTextNode(piece));
      continue;
    }
    const mark = document.createElement("span");
    mark.className = "fq-mark";
    mark.style.setProperty("--fq-colour", colour);
    mark.title = title;
    mark.textContent = piece;
    body.appendChild(mark);
  }
  const menu = document.createElement("div");
  menu.className = "fq-menu";
  menu.hidden = true;
  menu.setAttribute("role", "menu");
  const heading = document.createElement("div");
  heading.className = "fq-menu-title";
  heading.textContent = data.strings.menu;
  menu.appendChild(heading);
  data.codes.forEach((code, index) => {
    const item = document.createElement("button");
    item.type = "button";
    item.className = "fq-code";
    item.dataset.code = code.id;
    item.setAttribute("role", "menuitem");
    const swatch = document.createElement("span");
    swatch.className = "fq-swatch";
    swatch.style.background = code.colour;
    const key = document.createElement("kbd");
    key.textContent = index < 9 ? String(index + 1) : "";
    const label = document.createElement("span");
    label.textContent = code.label;
    item.append(swatch, key, label);
    menu.appendChild(item);
  });
  const hint = document.createElement("div");
  hint.className = "fq-menu-hint";
  hint.textContent = data.strings.hint;
  menu.appendChild(hint);
  root.replaceChildren(body, menu);
}

// The selection's code-point offsets inside the turn's text, clipped to it; null if none.
function selectedOffsets(root, text) {
  const selection = window.getSelection();
  if (!selection || selection.isCollapsed || selection.rangeCount === 0) return null;
  const body = root.querySelector(".fq-text");
  const range = selection.getRangeAt(0);
  const whole = document.createRange();
  whole.selectNodeContents(body);
  if (range.compareBoundaryPoints(Range.END_TO_START, whole) >= 0
      || range.compareBoundaryPoints(Range.START_TO_END, whole) <= 0) return null;
  const before = document.createRange();
  before.selectNodeContents(body);
  let start = 0;
  if (range.compareBoundaryPoints(Range.START_TO_START, whole) > 0) {
    before.setEnd(range.startContainer, range.startOffset);
    start = before.toString().length;
  }
  let end = text.length;
  if (range.compareBoundaryPoints(Range.END_TO_END, whole) < 0) {
    before.setEnd(range.endContainer, range.endOffset);
    end = before.toString().length;
  }
  if (end <= start) return null;
  return {start: codePoints(text, start), end: codePoints(text, end), rect: range.getBoundingClientRect()};
}

export default function ({data, parentElement, setTriggerValue}) {
  let root = parentElement.querySelector(":scope > .fq-turn");
  if (!root) {
    root = document.createElement("div");
    root.className = "fq-turn";
    parentElement.appendChild(root);
  }
  const state = root.fqState || (root.fqState = {});
  state.data = data;
  state.send = setTriggerValue;
  const json = JSON.stringify(data);
  if (state.json !== json) {  // a rerun with the same turn keeps the DOM (and a selection)
    build(root, data);
    state.json = json;
  }
  if (state.bound) return state.cleanup;

  const menu = () => root.querySelector(".fq-menu");
  const close = () => {
    if (!menu().hidden) menu().hidden = true;
    state.selection = null;
  };
  const choose = (code) => {
    const chosen = state.selection;
    close();
    if (!chosen) return;
    window.getSelection()?.removeAllRanges();
    state.send("coded", {start: chosen.start, end: chosen.end, code});
  };
  const open = () => {
    const found = selectedOffsets(root, state.data.text);
    if (!found) return close();
    state.selection = found;
    const box = root.getBoundingClientRect();
    const list = menu();
    list.style.left = `${Math.max(0, found.rect.left - box.left)}px`;
    list.hidden = false;
    // below the selection, or above it when the screen ends first and there is more room above
    const height = list.offsetHeight;
    const below = window.innerHeight - found.rect.bottom - 4;
    const above = found.rect.top - 4;
    const upward = height > below && above > below;
    list.style.top = upward ? `${found.rect.top - box.top - 4 - height}px` : `${found.rect.bottom - box.top + 4}px`;
  };
  const onMouseUp = (event) => {
    if (event.target.closest(".fq-menu")) return;
    setTimeout(open, 0);  // the selection is final after the event
  };
  const onClick = (event) => {
    const item = event.target.closest(".fq-code");
    if (item) choose(item.dataset.code);
  };
  const onKey = (event) => {
    if (menu().hidden) return;
    if (event.key === "Escape") {
      close();
      event.stopPropagation();
      return;
    }
    const number = Number(event.key);
    if (Number.isInteger(number) && number >= 1 && number <= Math.min(9, state.data.codes.length)) {
      event.preventDefault();
      event.stopPropagation();
      choose(state.data.codes[number - 1].id);
    }
  };
  const onOutside = (event) => {
    if (!root.contains(event.target)) close();
  };
  root.addEventListener("mouseup", onMouseUp);
  root.addEventListener("click", onClick);
  document.addEventListener("keydown", onKey, true);
  document.addEventListener("mousedown", onOutside, true);
  state.bound = true;
  state.cleanup = () => {
    root.removeEventListener("mouseup", onMouseUp);
    root.removeEventListener("click", onClick);
    document.removeEventListener("keydown", onKey, true);
    document.removeEventListener("mousedown", onOutside, true);
    state.bound = false;
  };
  return state.cleanup;
}
