// What the organization locked (AppInfo.organization.locked, docs/deployment.md): every input that
// edits a locked setting is disabled, with a lock and "Set by your organization" beside its label
// (or its table, or its group's legend). An input names its setting by `data-field` (its path, as
// errors name it) or, for a control that edits a setting another input shows (the proxy's mode,
// whether quiet hours are on), `data-locks`; in a list's item both are within the item's path
// (fields.js `fieldPath`), and the item (`data-lock-group`) is marked once, at its legend. The
// page only shows the locks: the resident refuses a change of a locked field whatever the page
// sends.

import { el } from "../dom.js";
import { t } from "../i18n/index.js";
import { state } from "../state.js";
import { fieldPath } from "./fields.js";

/** The dotted keys the organization locks. */
export function lockedKeys() {
  return state.info?.organization?.locked ?? [];
}

/** Whether the setting at `path` is locked: the key itself, a part of it, or a whole holding one. */
export function isLocked(path, locked = lockedKeys()) {
  return Boolean(path) && locked.some((key) => key === path || path.startsWith(`${key}.`) || key.startsWith(`${path}.`));
}

const controls = (root) => root.querySelectorAll("[data-field], [data-locks]");

/** Enables what the locks disabled, so the form's own rules (a field that depends on another) decide first. */
export function releaseLocks(root) {
  for (const input of controls(root)) {
    if (!input.dataset.locked) continue;
    delete input.dataset.locked;
    input.disabled = false;
    input.removeAttribute("title");
  }
  for (const badge of root.querySelectorAll(".lock-badge")) badge.remove();
}

/** Disables every input of a locked setting and marks it, once per label, legend or table. */
export function holdLocks(root) {
  const locked = lockedKeys();
  if (locked.length === 0) return;
  const marked = new Set();
  for (const input of controls(root)) {
    if (!isLocked(fieldPath(input, input.dataset.locks ?? input.dataset.field), locked)) continue;
    input.dataset.locked = "true";
    input.disabled = true;
    input.title = t("settings.locked");
    const anchor =
      input.closest("[data-lock-group]")?.querySelector(":scope > legend") ||
      (input.id && root.querySelector(`label[for="${CSS.escape(input.id)}"]`)) ||
      input.closest("table") ||
      input.closest("fieldset")?.querySelector("legend");
    if (!anchor || marked.has(anchor)) continue;
    marked.add(anchor);
    anchor.after(badge());
  }
}

function badge() {
  return el("span", { class: "lock-badge" }, [el("span", { class: "icon icon-lock", attrs: { "aria-hidden": "true" } }), t("settings.locked")]);
}
