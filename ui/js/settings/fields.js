// The settings form's fields. Each input names the setting it edits (`data-field`: its path in
// Settings, the path a refused setting's error names) and a number input names its bounds
// (`data-limit`: a key of AppInfo.limits, the engine's own ranges): the page keeps no table of
// fields and no copy of a range. An error, the page's own or the engine's, shows on the input
// that edits the field it names, in the line its aria-describedby points at.
//
// An item of a list (a forwarding target, settings/away.js) is built by the page: its element
// names the item's path (`data-field-base="notifications.forward.2"`) and each input in it the
// field within the item (`data-field="url"`), so an item renumbered when one before it goes
// keeps its inputs as they are. `fieldPath` puts the two together.

import { byId, setText } from "../dom.js";
import { outOfRange, problemText } from "../problems.js";
import { state } from "../state.js";

/** What the page refuses itself before saving: the field's path and the sentence. */
export class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

/**
 * The setting `node` edits: `name` (its data-field by default) after the path of the list item
 * around it, if any (`notifications.forward.2` and "url": `notifications.forward.2.url`; an
 * empty name: the item itself).
 */
export function fieldPath(node, name = node.dataset.field) {
  if (name == null) return null;
  const base = node.closest("[data-field-base]")?.dataset.fieldBase;
  if (!base) return name;
  return name === "" ? base : `${base}.${name}`;
}

/** The bounds of `input` (AppInfo.limits[data-limit]), or null before AppInfo came. */
function boundsOf(input) {
  return state.info?.limits?.[input.dataset.limit] ?? null;
}

/** Gives every `[data-limit]` input under `root` the app's bounds: a number's min and max, a text's length. */
export function applyLimits(root) {
  for (const input of root.querySelectorAll("[data-limit]")) {
    const bounds = boundsOf(input);
    if (!bounds) continue;
    if (input.type === "text") {
      input.maxLength = bounds.max;
    } else {
      input.min = String(bounds.min);
      input.max = String(bounds.max);
    }
  }
}

/**
 * A whole number within the input's bounds, else a FieldError with the engine's own problem
 * (`out_of_range`). `optional`: empty means null.
 */
export function readNumber(input, { optional = false } = {}) {
  const raw = input.value.trim();
  if (optional && raw === "" && !input.validity.badInput) return null;
  const value = Number(raw);
  const bounds = boundsOf(input);
  const outside = bounds && (value < bounds.min || value > bounds.max);
  if (raw === "" || !Number.isInteger(value) || outside) {
    const problem = bounds ? problemText(outOfRange(bounds), { optional }) : null;
    throw new FieldError(fieldPath(input), problem ?? input.validationMessage);
  }
  return value;
}

/**
 * The input that edits `field` under `root`: the one that names it, else the first of a group
 * (`notifications.quiet_hours` is its start's, `notifications.escalation.sources` the first
 * source's table).
 */
export function inputFor(root, field) {
  if (!field) return null;
  const inputs = [...root.querySelectorAll("[data-field]")];
  return inputs.find((input) => fieldPath(input) === field) ?? inputs.find((input) => fieldPath(input).startsWith(`${field}.`)) ?? null;
}

/** The error lines of `input`: the `.field-error` elements its aria-describedby names. */
function errorLines(input) {
  return (input.getAttribute("aria-describedby") || "")
    .split(/\s+/)
    .map((id) => id && document.getElementById(id))
    .filter((node) => node && node.classList.contains("field-error"));
}

/** Shows `message` under `input` and marks it invalid; false if it has no error line. */
export function showInputError(input, message) {
  const [line] = errorLines(input);
  if (!line) return false;
  setText(line, message);
  line.hidden = false;
  input.setAttribute("aria-invalid", "true");
  return true;
}

/** The sentence for a refused setting (an ApiError of kind "setting"): its problem's words. */
export function settingErrorText(error, input) {
  return problemText(error.problem, { optional: input ? !input.required : false }) ?? error.message;
}

/**
 * Editing a field hides its error: its own line, or a line it shares with others (the quiet
 * hours' two times, a table of minutes); every input sharing that line stops being marked
 * invalid with it.
 */
export function clearInputError(root, input) {
  if (!input || !input.getAttribute) return;
  input.removeAttribute("aria-invalid");
  for (const line of errorLines(input)) {
    line.hidden = true;
    for (const other of root.querySelectorAll(`[aria-describedby~="${CSS.escape(line.id)}"]`)) other.removeAttribute("aria-invalid");
  }
}

export function clearErrors(root) {
  for (const node of root.querySelectorAll(".field-error")) node.hidden = true;
  for (const node of root.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

/** Shows `message` in the form's general error line (an error no field of the form edits). */
export function showGeneralError(message) {
  const line = byId("settings-error");
  setText(line, message);
  line.hidden = false;
}
