// Settings → Notifications → When I'm away: when the agent counts as away (notifications.away:
// after some idle minutes, or only while the screen is locked) and where Chatbell forwards alerts
// then (notifications.forward: ntfy, Gotify, a webhook, a command). A target marked "lead" gets
// only the urgent hand-off, whether or not the agent is away.
//
// Each target is a row the page builds (`.forward-target[data-index]`): the row names its path
// (`data-field-base="notifications.forward.<index>"`) and each input the field within it
// (`data-field="url"`), so a refused field's path and the organization's locks find it
// (fields.js `fieldPath`). A target's secret is saved at once to the keychain under its id, never
// part of the draft (as secrets.js does for the connection's); "Send test" tries the row as
// drafted, before it is saved.

import * as api from "../api.js";
import { byId, el, setHidden, setText } from "../dom.js";
import { t } from "../i18n/index.js";
import { errorText, problemText } from "../problems.js";
import { state } from "../state.js";
import { FieldError, applyLimits, clearInputError, readNumber, settingErrorText, showInputError } from "./fields.js";

// The kinds of target this page adds (one button each, #forward-add-<kind>), and the fields of
// each besides those every target has.
const KINDS = ["ntfy", "gotify", "webhook", "command"];
const ADDRESS = { ntfy: ["url", "topic"], gotify: ["url"], webhook: ["url"], command: ["program", "args"] };
// What a target may receive (ForwardTarget.kinds), in the order shown, and what a new one does.
const RECEIVES = ["new_chat", "reminder", "urgent", "offline"];
const NEW_RECEIVES = ["new_chat", "reminder", "urgent"];
// The kinds whose secret the keychain may hold (a command has none).
const HAS_SECRET = ["ntfy", "gotify", "webhook"];

let f = {};
let form;
let refreshInfo = async () => {};
let showFieldError = () => {};
let edited = () => {};
// The saved targets the rows were built from (JSON), so a settings event that changed none of
// them leaves the rows, their test results and focus alone.
let builtFrom = null;
let nextUid = 0;
// Each row's saved target: fields this page does not know (a newer engine's) are sent back as they came.
const originals = new WeakMap();
// Each row's last test, to word again when the language changes.
const results = new WeakMap();
// What set_forward_secret and clear_forward_secret answered since the dialog opened, by id:
// AppInfo.forward_secrets knows only the saved targets, and a draft's secret may be saved first.
const secretsKnown = new Map();

/**
 * `refresh`: reads AppInfo again (after a secret is saved or cleared); `showFieldError(path,
 * message)`: the form's; `edited(id)`: the draft changed without an input event (a target added
 * or removed).
 */
export function initAway(dialog, options) {
  ({ refresh: refreshInfo, showFieldError, edited } = options);
  form = byId("settings-form");
  f = {
    idle: byId("setting-away-idle"),
    lockOnly: byId("setting-away-lock-only"),
    status: byId("away-status"),
    list: byId("forward-list"),
    empty: byId("forward-empty"),
    max: byId("forward-max"),
  };
  for (const kind of KINDS) byId(`forward-add-${kind}`).addEventListener("click", () => addTarget(kind));
  f.list.addEventListener("click", onListClick);
  f.list.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || e.target.dataset?.part !== "secret") return;
    e.preventDefault();
    saveSecret(e.target.closest(".forward-target"));
  });
}

/** On opening the dialog: the rows are built anew from the saved targets (nothing typed, no test shown). */
export function resetAway() {
  builtFrom = null;
  secretsKnown.clear();
}

export function fillAway(notifications, set, isDirty) {
  const away = notifications.away ?? {};
  set(f.lockOnly, away.idle_minutes === null);
  // While only the lock counts, the minutes show greyed from the engine's default.
  set(f.idle, away.idle_minutes ?? 5);
  const targets = Array.isArray(notifications.forward) ? notifications.forward : [];
  const json = JSON.stringify(targets);
  // An edited list is the agent's draft: a change saved elsewhere does not replace it.
  if (json === builtFrom || listEdited(isDirty)) return;
  builtFrom = json;
  f.list.replaceChildren(...targets.map((target) => buildRow(target, { saved: true })));
  renumber();
}

export function collectAway(notifications) {
  notifications.away = { ...(notifications.away ?? {}), idle_minutes: f.lockOnly.checked ? null : readNumber(f.idle) };
  const rows = rowsOf();
  const bounds = state.info?.limits?.forward_targets;
  if (bounds && rows.length > bounds.max) {
    throw new FieldError("notifications.forward", problemText({ kind: "too_many", max: bounds.max, unit: bounds.unit }));
  }
  notifications.forward = rows.map(collectTarget);
}

/** The form's rules: the idle minutes with "only when locked", a lead's choices, the add buttons at the most targets. */
export function syncAway() {
  f.idle.disabled = f.lockOnly.checked;
  const away = state.info?.away;
  setHidden(f.status, typeof away !== "boolean");
  if (typeof away === "boolean") setText(f.status, away ? t("forward.away_now") : t("forward.here_now"));
  const rows = rowsOf();
  for (const row of rows) syncRow(row);
  setHidden(f.empty, rows.length > 0);
  const bounds = state.info?.limits?.forward_targets;
  const full = Boolean(bounds) && rows.length >= bounds.max;
  for (const kind of KINDS) byId(`forward-add-${kind}`).disabled = full;
  setHidden(f.max, !full);
  if (full) setText(f.max, problemText({ kind: "too_many", max: bounds.max, unit: bounds.unit }));
}

/** The language changed: what the rows word themselves. */
export function relabelAway() {
  for (const row of rowsOf()) {
    wordRow(row);
    renderResult(row);
  }
}

/* ---- the rows ---- */

const rowsOf = () => [...f.list.querySelectorAll(":scope > .forward-target")];
const part = (row, name) => row.querySelector(`[data-part="${name}"]`);
const fieldOf = (row, name) => row.querySelector(`[data-field="${name}"]`);
const kindCheck = (row, kind) => row.querySelector(`[data-kind-check="${kind}"]`);
const targetId = (row) => fieldOf(row, "id").value.trim();

function listEdited(isDirty) {
  return isDirty(f.list.id) || [...f.list.querySelectorAll("[id]")].some((node) => isDirty(node.id));
}

/** Each row's index and path, in the list's order. */
function renumber() {
  rowsOf().forEach((row, index) => {
    row.dataset.index = String(index);
    row.dataset.fieldBase = `notifications.forward.${index}`;
  });
}

function input(type, value, attrs = {}) {
  const text = type === "text" || type === "url";
  const node = el("input", { attrs: { type, ...(text ? { spellcheck: "false", autocomplete: "off" } : {}), ...attrs } });
  node.value = value ?? "";
  return node;
}

/** A control of the row with its label, its help (when `help`) and its error line; ids from `uid`. */
function field(uid, name, control, { help = false } = {}) {
  control.id = `${uid}-${name}`;
  control.dataset.field = name;
  const helpLine = help ? el("p", { class: "help", data: { part: `${name}-help` }, attrs: { id: `${control.id}-help` } }) : null;
  const error = el("p", { class: "field-error", attrs: { id: `${control.id}-error`, role: "alert", hidden: true } });
  control.setAttribute("aria-describedby", [helpLine?.id, error.id].filter(Boolean).join(" "));
  const label = el("label", { data: { part: `${name}-label` }, attrs: { for: control.id } });
  return el("div", { class: "field" }, [label, control, helpLine, error]);
}

function addressFields(uid, kind, target) {
  switch (kind) {
    case "ntfy":
      return [
        field(uid, "url", input("url", target.url, { inputmode: "url", placeholder: "https://ntfy.sh" }), { help: true }),
        field(uid, "topic", input("text", target.topic, { class: "input-medium" }), { help: true }),
      ];
    case "gotify":
      return [field(uid, "url", input("url", target.url, { inputmode: "url", placeholder: "https://gotify.example.com" }), { help: true })];
    case "webhook":
      return [field(uid, "url", input("url", target.url, { inputmode: "url", placeholder: "https://hooks.example.com/chatbell" }), { help: true })];
    case "command": {
      const args = el("textarea", { class: "forward-args", attrs: { rows: "3", spellcheck: "false", autocomplete: "off", wrap: "off" } });
      args.value = Array.isArray(target.args) ? target.args.join("\n") : "";
      return [
        field(uid, "program", input("text", target.program, { placeholder: "/usr/local/bin/notify-pager" }), { help: true }),
        field(uid, "args", args, { help: true }),
      ];
    }
    default:
      // A kind this page cannot edit (a newer engine's) is kept as it came.
      return [el("p", { class: "help", data: { part: "unknown-kind" } })];
  }
}

/** What the target receives: a line per kind, reminders with the step they start from. */
function receivesGroup(uid, target) {
  const kinds = Array.isArray(target.kinds) ? target.kinds : [];
  const errorId = `${uid}-kinds-error`;
  const lines = RECEIVES.map((kind) => {
    const check = el("input", { data: { field: "kinds", kindCheck: kind }, attrs: { type: "checkbox", id: `${uid}-kind-${kind}`, "aria-describedby": errorId } });
    check.checked = kinds.includes(kind);
    const line = el("div", { class: "field-check forward-kind" }, [check, el("label", { data: { part: `kind-${kind}-label` }, attrs: { for: check.id } })]);
    if (kind === "reminder") {
      const id = `${uid}-from_step`;
      const step = input("number", String(target.from_step ?? 1), {
        id, class: "input-minutes", step: "1", inputmode: "numeric", required: true, "aria-describedby": `${id}-help ${id}-error`,
      });
      step.dataset.field = "from_step";
      step.dataset.limit = "from_step";
      // From which reminder on: beside "Reminders", in its label's column.
      line.append(
        el("span", { class: "inline-fields forward-from-step" }, [el("label", { data: { part: "from_step-label" }, attrs: { for: id } }), step]),
        el("p", { class: "help", data: { part: "from_step-help" }, attrs: { id: `${id}-help` } }),
        el("p", { class: "field-error", attrs: { id: `${id}-error`, role: "alert", hidden: true } }),
      );
    }
    return line;
  });
  return el("fieldset", { class: "forward-receives" }, [
    el("legend", { data: { part: "receives" } }),
    ...lines,
    el("p", { class: "field-error", attrs: { id: errorId, role: "alert", hidden: true } }),
  ]);
}

function secretBlock(uid) {
  const id = `${uid}-secret`;
  const secret = el("input", {
    data: { part: "secret" },
    attrs: { type: "password", id, autocomplete: "off", spellcheck: "false", "aria-describedby": `${id}-help ${id}-error` },
  });
  return el("div", { class: "field forward-secret" }, [
    el("label", { data: { part: "secret-label" }, attrs: { for: id } }),
    el("p", { class: "token-status", data: { part: "secret-status" } }),
    el("div", { class: "inline-fields" }, [
      secret,
      el("button", { class: "btn btn-small", data: { part: "save-secret" }, attrs: { type: "button" } }),
      el("button", { class: "btn btn-small btn-danger-ghost", data: { part: "clear-secret" }, attrs: { type: "button" } }),
    ]),
    el("p", { class: "help", data: { part: "secret-help" }, attrs: { id: `${id}-help` } }),
    el("p", { class: "field-error", attrs: { id: `${id}-error`, role: "alert", hidden: true } }),
    el("p", { class: "field-ok", data: { part: "secret-message" }, attrs: { role: "status", hidden: true } }),
  ]);
}

/** A target's row. `saved`: it came from the settings (its unknown fields are kept). */
function buildRow(target, { saved }) {
  const uid = `forward-t${++nextUid}`;
  const kind = typeof target.kind === "string" ? target.kind : "";
  const when = el("select", { class: "select-auto" }, [
    el("option", { data: { part: "when-away" }, attrs: { value: "away" } }),
    el("option", { data: { part: "when-always" }, attrs: { value: "always" } }),
  ]);
  // A choice this page does not know (a newer engine's) stays chosen, under its own name.
  if (typeof target.when === "string" && !["away", "always"].includes(target.when)) {
    when.append(el("option", { text: target.when, attrs: { value: target.when } }));
  }
  when.value = target.when ?? "away";
  const lead = el("input", { data: { field: "lead" }, attrs: { type: "checkbox", id: `${uid}-lead`, "aria-describedby": `${uid}-lead-help ${uid}-lead-error` } });
  lead.checked = Boolean(target.lead);

  const row = el("fieldset", { class: "forward-target", data: { kind, lockGroup: "" } }, [
    el("legend", { data: { part: "legend" } }),
    el("div", { class: "forward-fields" }, [field(uid, "id", input("text", target.id, { class: "input-medium" }), { help: true }), ...addressFields(uid, kind, target)]),
    el("p", { class: "help forward-lead-note", data: { part: "lead-note" }, attrs: { hidden: true } }),
    field(uid, "when", when),
    receivesGroup(uid, target),
    el("div", { class: "field-check" }, [
      lead,
      el("label", { data: { part: "lead-label" }, attrs: { for: lead.id } }),
      el("p", { class: "help", data: { part: "lead-help" }, attrs: { id: `${uid}-lead-help` } }),
      el("p", { class: "field-error", attrs: { id: `${uid}-lead-error`, role: "alert", hidden: true } }),
    ]),
    HAS_SECRET.includes(kind) ? secretBlock(uid) : null,
    el("div", { class: "forward-actions" }, [
      el("button", { class: "btn btn-small", data: { part: "test" }, attrs: { type: "button", "aria-describedby": `${uid}-test-result` } }),
      el("span", { class: "forward-result", data: { part: "test-result" }, attrs: { id: `${uid}-test-result`, role: "status", "aria-live": "polite" } }),
      // data-locks="": the row itself (its path), so a locked list cannot lose a target.
      el("button", { class: "btn btn-small btn-danger-ghost forward-remove", data: { part: "remove", locks: "" }, attrs: { type: "button" } }),
    ]),
  ]);
  if (saved) originals.set(row, target);
  applyLimits(row);
  wordRow(row);
  return row;
}

function kindWord(kind) {
  switch (kind) {
    case "ntfy":
      return t("forward.kind_ntfy");
    case "gotify":
      return t("forward.kind_gotify");
    case "webhook":
      return t("forward.kind_webhook");
    case "command":
      return t("forward.kind_command");
    default:
      return kind;
  }
}

/** The row's words, by its kind (again when the language changes). */
function wordRow(row) {
  const kind = row.dataset.kind;
  const words = {
    "id-label": t("forward.name"),
    "id-help": t("forward.name_help"),
    "url-label": kind === "webhook" ? t("forward.webhook_url") : t("forward.server"),
    "url-help": kind === "ntfy" ? t("forward.ntfy_url_help") : kind === "gotify" ? t("forward.gotify_url_help") : t("forward.webhook_url_help"),
    "topic-label": t("forward.topic"),
    "topic-help": t("forward.topic_help"),
    "program-label": t("forward.program"),
    "program-help": t("forward.program_help"),
    "args-label": t("forward.args"),
    "args-help": t("forward.args_help"),
    "unknown-kind": t("forward.unknown_kind"),
    "lead-note": t("forward.lead_note"),
    "when-label": t("forward.when"),
    "when-away": t("forward.when_away"),
    "when-always": t("forward.when_always"),
    receives: t("forward.receives"),
    "kind-new_chat-label": t("forward.receive_new_chat"),
    "kind-reminder-label": t("forward.receive_reminder"),
    "from_step-label": t("forward.from_step"),
    "from_step-help": t("forward.from_step_help"),
    "kind-urgent-label": t("forward.receive_urgent"),
    "kind-offline-label": t("forward.receive_offline"),
    "lead-label": t("forward.lead"),
    "lead-help": t("forward.lead_help"),
    "secret-label": kind === "ntfy" ? t("forward.secret_ntfy") : kind === "gotify" ? t("forward.secret_gotify") : t("forward.secret_webhook"),
    "secret-help": kind === "ntfy" ? t("forward.secret_ntfy_help") : kind === "gotify" ? t("forward.secret_gotify_help") : t("forward.secret_webhook_help"),
    "save-secret": t("forward.secret_save"),
    "clear-secret": t("forward.secret_clear"),
    test: t("forward.test"),
    remove: t("forward.remove"),
  };
  for (const [name, text] of Object.entries(words)) {
    const node = part(row, name);
    if (node) setText(node, text);
  }
  syncRow(row);
}

/** What follows the row's fields: its legend and names, a lead's greyed choices, its secret's status. */
function syncRow(row) {
  const id = targetId(row);
  const kind = kindWord(row.dataset.kind);
  setText(part(row, "legend"), id ? t("forward.legend", { kind, id }) : kind);
  const name = id || kind;
  part(row, "test").setAttribute("aria-label", t("forward.test_named", { name }));
  part(row, "remove").setAttribute("aria-label", t("forward.remove_named", { name }));

  // A lead's target gets the urgent hand-off only: when and what do not apply.
  const lead = fieldOf(row, "lead").checked;
  row.classList.toggle("is-lead", lead);
  setHidden(part(row, "lead-note"), !lead);
  fieldOf(row, "when").disabled = lead;
  for (const check of row.querySelectorAll("[data-kind-check]")) check.disabled = lead;
  fieldOf(row, "from_step").disabled = lead || !kindCheck(row, "reminder").checked;

  const status = part(row, "secret-status");
  if (status) {
    const stored =
      id !== "" && (secretsKnown.get(id) ?? (state.info?.forward_secrets ?? []).includes(id));
    setText(status, stored ? t("forward.secret_stored") : t("forward.secret_none"));
    status.dataset.stored = stored ? "true" : "false";
    part(row, "clear-secret").disabled = !stored;
  }
}

/** The row as a ForwardTarget: only its kind's fields; a FieldError for a number out of range. */
function collectTarget(row) {
  const kind = row.dataset.kind;
  const value = (name) => fieldOf(row, name)?.value ?? "";
  const target = { ...(originals.get(row) ?? {}), id: targetId(row), kind };
  if (kind === "ntfy") {
    target.url = value("url").trim();
    target.topic = value("topic").trim();
  } else if (kind === "gotify") {
    target.url = value("url").trim();
  } else if (kind === "webhook") {
    // Empty: the URL is the secret the keychain holds.
    target.url = value("url").trim() || null;
  } else if (kind === "command") {
    target.program = value("program").trim();
    // One argument a line, as typed (spaces are an argument's own); empty lines are none.
    target.args = value("args").split("\n").map((line) => line.replace(/\r$/, "")).filter((line) => line !== "");
  }
  target.when = value("when");
  const unknown = (Array.isArray(target.kinds) ? target.kinds : []).filter((k) => !RECEIVES.includes(k));
  target.kinds = [...RECEIVES.filter((k) => kindCheck(row, k).checked), ...unknown];
  target.from_step = readNumber(fieldOf(row, "from_step"));
  target.lead = fieldOf(row, "lead").checked;
  return target;
}

/* ---- adding, removing ---- */

/** "phone" for the first ntfy, else the kind and the first number no other target has. */
function newId(kind) {
  const rows = rowsOf();
  const taken = new Set(rows.map(targetId));
  if (kind === "ntfy" && !rows.some((row) => row.dataset.kind === "ntfy") && !taken.has("phone")) return "phone";
  let n = rows.filter((row) => row.dataset.kind === kind).length + 1;
  while (taken.has(`${kind}${n}`)) n++;
  return `${kind}${n}`;
}

function addTarget(kind) {
  const address = { ntfy: { url: "https://ntfy.sh", topic: "" }, gotify: { url: "" }, webhook: { url: "" }, command: { program: "", args: [] } }[kind];
  const target = { id: newId(kind), kind, ...address, when: "away", kinds: [...NEW_RECEIVES], from_step: 1, lead: false };
  const row = buildRow(target, { saved: false });
  f.list.append(row);
  renumber();
  clearInputError(form, f.list);
  edited(f.list.id);
  // The first address field still empty wants the agent next (an ntfy topic, a server).
  const next = ADDRESS[kind].map((name) => fieldOf(row, name)).find((node) => node && node.value === "") ?? fieldOf(row, "id");
  next.focus();
  row.scrollIntoView({ block: "nearest" });
}

function removeTarget(row) {
  const at = rowsOf().indexOf(row);
  row.remove();
  renumber();
  clearInputError(form, f.list);
  edited(f.list.id);
  const rows = rowsOf();
  const next = rows[at] ?? rows[at - 1];
  (next ? part(next, "remove") : byId(`forward-add-${KINDS[0]}`)).focus();
}

function onListClick(e) {
  const button = e.target.closest("button[data-part]");
  if (!button || button.disabled) return;
  const row = button.closest(".forward-target");
  const action = { "save-secret": saveSecret, "clear-secret": clearSecret, test: sendTest, remove: removeTarget }[button.dataset.part];
  if (row && action) action(row);
}

/* ---- the secret: saved at once, never shown ---- */

/** The row's id, or null with the reason said on its name: the keychain keeps the secret under it. */
function secretName(row) {
  const id = targetId(row);
  if (id !== "") return id;
  const input = fieldOf(row, "id");
  showInputError(input, t("forward.err_name_first"));
  input.focus();
  return null;
}

async function saveSecret(row) {
  const input = part(row, "secret");
  const message = part(row, "secret-message");
  clearInputError(form, input);
  setHidden(message, true);
  // A token or a URL never has spaces around it.
  const value = input.value.trim();
  if (value === "") {
    showInputError(input, t("forward.err_secret_empty"));
    input.focus();
    return;
  }
  const id = secretName(row);
  if (id == null) return;
  const button = part(row, "save-secret");
  button.disabled = true;
  try {
    const answer = await api.setForwardSecret(id, value);
    secretsKnown.set(answer.id, answer.stored);
    input.value = "";
    setText(message, t("forward.secret_saved"));
    setHidden(message, false);
    await refreshInfo();
  } catch (e) {
    showInputError(input, errorText(e));
    input.focus();
  } finally {
    button.disabled = false;
  }
}

async function clearSecret(row) {
  const input = part(row, "secret");
  const message = part(row, "secret-message");
  clearInputError(form, input);
  setHidden(message, true);
  const id = secretName(row);
  if (id == null) return;
  try {
    const answer = await api.clearForwardSecret(id);
    secretsKnown.set(answer.id, answer.stored);
    setText(message, t("forward.secret_cleared"));
    setHidden(message, false);
    await refreshInfo();
  } catch (e) {
    showInputError(input, errorText(e));
  }
}

/* ---- Send test ---- */

/** The row's input for a refused field's path (its last part: the test names the target, not its place). */
function rowInputFor(row, path) {
  const name = String(path ?? "").split(".").pop();
  return name ? fieldOf(row, name) : null;
}

/**
 * Sends the row as drafted and says whether it was delivered. The button stays focusable while
 * it runs: it is marked aria-disabled and ignores presses (as ▶ of the sounds).
 */
async function sendTest(row) {
  const button = part(row, "test");
  if (button.getAttribute("aria-disabled") === "true") return;
  let target;
  try {
    target = collectTarget(row);
  } catch (e) {
    if (e instanceof FieldError) return showFieldError(e.field, e.message);
    throw e;
  }
  button.setAttribute("aria-disabled", "true");
  results.set(row, { state: "busy" });
  renderResult(row);
  let shown;
  try {
    const check = await api.testForward(target);
    shown = { state: "answered", delivered: Boolean(check?.delivered), error: check?.error ?? null };
  } catch (error) {
    shown = { state: error.kind === "setting" ? "refused" : "failed", delivered: false, error };
  } finally {
    button.removeAttribute("aria-disabled");
  }
  if (!row.isConnected) return;
  results.set(row, shown);
  renderResult(row);
  if (shown.state === "refused") {
    // A value Save would refuse: said on its field too.
    const input = rowInputFor(row, shown.error.field);
    if (input && showInputError(input, settingErrorText(shown.error, input))) input.focus();
  }
}

function renderResult(row) {
  const line = part(row, "test-result");
  const shown = results.get(row);
  if (!shown) {
    setText(line, "");
    delete line.dataset.state;
    delete line.dataset.delivered;
    return;
  }
  line.dataset.state = shown.state;
  if (shown.state === "busy") {
    delete line.dataset.delivered;
    setText(line, t("forward.test_sending"));
    return;
  }
  line.dataset.delivered = shown.delivered ? "true" : "false";
  let text;
  if (shown.state === "answered") {
    // ForwardCheck.error is the engine's sentence, in the agent's language: shown as text.
    text = shown.delivered ? t("forward.test_delivered") : t("forward.test_not_delivered", { error: shown.error || t("alerts.no_reason") });
  } else if (shown.state === "refused") {
    text = t("forward.test_not_delivered", { error: settingErrorText(shown.error, rowInputFor(row, shown.error.field)) });
  } else {
    text = t("forward.test_failed", { error: shown.error?.message ?? String(shown.error) });
  }
  setText(line, text);
}
