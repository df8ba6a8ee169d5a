// The settings dialog. The form is a draft over the current Settings: Save sends the whole
// object (the shell validates and names the bad field), Cancel throws the draft away.
// Token, mutes and the diagnostics act at once: they are not part of the draft.

import * as api from "./api.js";
import { byId, el, setHidden, setText } from "./dom.js";
import { t } from "./i18n/index.js";
import { isMuted, setInfo, setSettings, state, subscribe } from "./state.js";
import { dateTime, duration, parseTime, timeOfDay } from "./time.js";
import { showToast } from "./banners.js";

const TABS = ["general", "connection", "notifications", "diagnostics"];
const MAX_DECISIONS = 200;
const PREVIEW_DEBOUNCE_MS = 200;

// The escalation tables: the general one, and one per source the agent may time differently.
// Input ids are `${prefix}-${kind}-${step}`; each table has one error line under it.
const LADDER_TABLES = [
  { source: null, prefix: "setting-esc", error: "escalation-error" },
  { source: "telegram", prefix: "setting-esc-telegram", error: "escalation-telegram-error" },
  { source: "widget", prefix: "setting-esc-widget", error: "escalation-widget-error" },
];
const LADDER_KINDS = [["new_chat", "new-chat"], ["new_message", "new-message"]];

// The tones, in the engine's order (`sound::Tone::ALL`), and the select of each kind of alert
// that plays one. "off" stands for null: that kind plays no sound.
const TONES = ["chime", "bell", "pop", "knock", "alarm"];
const SOUND_KINDS = [["new_chat", "setting-sound-new-chat"], ["new_message", "setting-sound-new-message"], ["escalation", "setting-sound-escalation"]];
const OFF = "off";
const LADDER_STEPS = [["realert_after_min", "realert"], ["every_min", "every"], ["urgent_after_min", "urgent"]];
const ladderInputId = (table, kind, step) => `${table.prefix}-${kind}-${step}`;
const ladderPath = (table, kind, step) =>
  `notifications.escalation${table.source ? `.sources.${table.source}` : ""}.${kind}.${step}`;

// Which input shows the error for each settings field the shell may name:
// [input id, tab, error line id (default: `${input id}-error`)].
const FIELD_INPUTS = {
  "server.url": ["setting-url", "connection"],
  "server.auth": ["setting-auth", "connection"],
  "server.query_param": ["setting-query-param", "connection"],
  "server.subscriptions": ["setting-subscriptions", "connection"],
  "server.web_panel": ["setting-web-panel", "connection"],
  "notifications.quiet_hours": ["setting-quiet-start", "notifications"],
  "notifications.snooze_minutes": ["setting-snooze-minutes", "notifications"],
  "notifications.sounds": ["setting-sound-new-chat", "notifications"],
  "notifications.sounds.new_chat": ["setting-sound-new-chat", "notifications"],
  "notifications.sounds.new_message": ["setting-sound-new-message", "notifications"],
  "notifications.sounds.escalation": ["setting-sound-escalation", "notifications"],
  "notifications.sounds.volume": ["setting-volume", "notifications"],
  "notifications.offline_alert_secs": ["setting-offline-alert", "notifications"],
  "store.retention_days": ["setting-retention-days", "general"],
  "ui.start_at_login": ["setting-start-at-login", "general"],
  token: ["setting-token", "connection"],
};
for (const table of LADDER_TABLES) {
  for (const [kind, kindId] of LADDER_KINDS) {
    for (const [step, stepId] of LADDER_STEPS) {
      FIELD_INPUTS[ladderPath(table, kind, step)] = [ladderInputId(table, kindId, stepId), "notifications", table.error];
    }
  }
}

let dialog, form;
let f = {}; // inputs by short name
let actions = { applyUi: () => {}, refreshInfo: async () => {} };
let dirty = new Set();
const chatNames = new Map(); // user_id -> name, for chats not in the loaded list
let previewTimer = 0;
let previewToken = 0;

export function initSettings(a) {
  actions = { ...actions, ...a };
  dialog = byId("settings-dialog");
  form = byId("settings-form");
  f = {
    url: byId("setting-url"),
    auth: byId("setting-auth"),
    queryParam: byId("setting-query-param"),
    queryField: byId("query-param-field"),
    token: byId("setting-token"),
    subscriptions: byId("setting-subscriptions"),
    enabled: byId("setting-notifications"),
    sound: byId("setting-sound"),
    privacy: byId("setting-privacy"),
    dnd: byId("setting-dnd"),
    quiet: byId("setting-quiet"),
    quietTimes: byId("quiet-times"),
    quietStart: byId("setting-quiet-start"),
    quietEnd: byId("setting-quiet-end"),
    quietNewChats: byId("setting-quiet-new-chats"),
    quietNewChatsField: byId("quiet-new-chats-field"),
    startAtLogin: byId("setting-start-at-login"),
    language: byId("setting-language"),
    theme: byId("setting-theme"),
    retentionMode: byId("setting-retention-mode"),
    retentionDays: byId("setting-retention-days"),
    retentionWrap: byId("retention-days-wrap"),
    retentionUnit: byId("retention-unit"),
    webPanel: byId("setting-web-panel"),
    webPanelPreview: byId("web-panel-preview"),
    escalation: byId("setting-escalation"),
    escalationSettings: byId("escalation-settings"),
    perSource: byId("setting-escalation-per-source"),
    sources: byId("escalation-sources"),
    snoozeMinutes: byId("setting-snooze-minutes"),
    sortByWait: byId("setting-sort-by-wait"),
    volume: byId("setting-volume"),
    volumeValue: byId("setting-volume-value"),
    offlineAlert: byId("setting-offline-alert"),
  };
  for (const [, id] of SOUND_KINDS) fillToneSelect(byId(id));

  byId("settings-button").addEventListener("click", () => openSettings());
  byId("settings-close").addEventListener("click", cancel);
  byId("settings-cancel").addEventListener("click", cancel);
  dialog.addEventListener("cancel", (e) => {
    e.preventDefault();
    cancel();
  });
  dialog.addEventListener("close", () => clearTimeout(previewTimer));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    save();
  });
  form.addEventListener("input", (e) => {
    if (e.target.id) dirty.add(e.target.id);
    clearFieldError(e.target.id);
    syncDependents();
    if (e.target === f.webPanel) schedulePreview(PREVIEW_DEBOUNCE_MS);
  });
  form.addEventListener("change", (e) => {
    if (e.target.id) dirty.add(e.target.id);
    if (e.target === f.perSource && f.perSource.checked) seedSourceTables();
    if (e.target.classList.contains("tone-select")) clearPreviewResult(e.target);
    syncDependents();
    // Language and theme show at once; Cancel puts the saved ones back.
    if (e.target === f.language || e.target === f.theme) actions.applyUi({ language: f.language.value, theme: f.theme.value });
  });

  initTabs();
  byId("save-token").addEventListener("click", saveToken);
  byId("clear-token").addEventListener("click", clearToken);
  f.token.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      saveToken();
    }
  });
  byId("test-alerts").addEventListener("click", runTest);
  for (const button of dialog.querySelectorAll("[data-preview]")) button.addEventListener("click", () => previewSound(button));
  byId("decisions-refresh").addEventListener("click", loadDecisions);
  byId("muted-list").addEventListener("click", onUnmute);

  const dndButton = byId("dnd-button");
  dndButton.addEventListener("click", async () => {
    const on = !state.settings?.notifications?.do_not_disturb;
    try {
      setSettings(await api.setDnd(on));
      showToast(t(on ? "dnd.on_toast" : "dnd.off_toast"));
    } catch (e) {
      showToast(t("errors.command", { error: e.message }));
    }
  });

  subscribe("settings", (s) => {
    renderDndButton(s);
    if (!dialog.open) return;
    fillForm(s.settings, { onlyClean: true });
    renderMuted();
  });
  subscribe("info", () => {
    if (!dialog.open) return;
    renderTokenStatus();
    renderAudioStatus();
  });
  subscribe("lang", () => {
    renderDndButton(state);
    if (!dialog.open) return;
    syncDependents();
    schedulePreview(0);
    renderTokenStatus();
    renderMuted();
    renderAbout();
    renderAudioStatus();
    relabelExtraOptions();
  });
  subscribe("mutes", () => dialog.open && renderMuted());
}

function renderDndButton(s) {
  const on = Boolean(s.settings?.notifications?.do_not_disturb);
  const button = byId("dnd-button");
  button.setAttribute("aria-pressed", on ? "true" : "false");
  button.classList.toggle("is-active", on);
  const label = t(on ? "dnd.label_on" : "dnd.label");
  button.setAttribute("aria-label", label);
  button.title = label;
}

/* ---- open / close ---- */

export function isSettingsOpen() {
  return Boolean(dialog && dialog.open);
}

export function openSettings(tab = "general") {
  if (!state.settings) return;
  if (!dialog.open) {
    dirty = new Set();
    clearErrors();
    fillForm(state.settings, { onlyClean: false });
    f.token.value = "";
    setHidden(byId("token-message"), true);
    setHidden(byId("test-report"), true);
    for (const [, id] of SOUND_KINDS) clearPreviewResult(byId(id));
    renderTokenStatus();
    renderAudioStatus();
    renderMuted();
    renderAbout();
    schedulePreview(0);
    dialog.showModal();
  }
  selectTab(tab, { focus: true });
  loadDecisions();
}

/**
 * Settings → Connection with the field that needs the agent: the server address while there
 * is none, else the token (the server refused it). Asked for by the shell
 * (`chatbell:open-settings`, the "token refused" notification's button).
 */
export function openServerSettings() {
  if (!state.settings) return;
  openSettings("connection");
  const input = f.url.value.trim() === "" ? f.url : f.token;
  input.focus();
}

/** Closes the dialog as Cancel does: the draft, and any language/theme preview, are dropped. */
export function closeSettings() {
  if (dialog && dialog.open) cancel();
}

function cancel() {
  dialog.close();
  if (state.settings) actions.applyUi(state.settings.ui);
}

/* ---- form <-> settings ---- */

function fillForm(settings, { onlyClean }) {
  const set = (input, value) => {
    if (onlyClean && dirty.has(input.id)) return;
    if (input.type === "checkbox") input.checked = Boolean(value);
    else input.value = value ?? "";
  };
  const { server, notifications: n, store, ui } = settings;
  const webPanelBefore = f.webPanel.value;
  set(f.url, server.url ?? "");
  set(f.auth, server.auth);
  set(f.queryParam, server.query_param);
  set(f.subscriptions, (server.subscriptions || []).join(", "));
  set(f.enabled, n.enabled);
  set(f.sound, n.sound);
  const sounds = n.sounds ?? {};
  for (const [kind, id] of SOUND_KINDS) {
    const select = byId(id);
    if (onlyClean && dirty.has(id)) continue;
    const tone = sounds[kind] ?? OFF;
    // A tone this page does not know (a newer engine's) stays chosen, under its own name.
    ensureOption(select, tone, () => tone);
    set(select, tone);
  }
  set(f.volume, sounds.volume ?? f.volume.value);
  if (!(onlyClean && dirty.has(f.offlineAlert.id))) {
    const secs = n.offline_alert_secs;
    const value = secs == null ? OFF : String(secs);
    // A saved time the list does not offer is shown as one more choice, not lost.
    ensureOption(f.offlineAlert, value, () => offlineLabel(secs));
    set(f.offlineAlert, value);
  }
  set(f.privacy, n.privacy);
  set(f.dnd, n.do_not_disturb);
  set(f.quiet, n.quiet_hours != null);
  set(f.quietStart, n.quiet_hours ? n.quiet_hours.start : "22:00");
  set(f.quietEnd, n.quiet_hours ? n.quiet_hours.end : "08:00");
  set(f.quietNewChats, n.quiet_hours_allow_new_chats);
  set(f.startAtLogin, ui.start_at_login);
  set(f.language, ui.language);
  set(f.theme, ui.theme);
  set(f.retentionMode, store.retention_days == null ? "forever" : "days");
  set(f.retentionDays, store.retention_days ?? 90);

  set(f.webPanel, server.web_panel ?? "");
  if (f.webPanel.value !== webPanelBefore) schedulePreview(0);
  const esc = n.escalation ?? {};
  const sources = esc.sources ?? {};
  set(f.escalation, esc.enabled);
  const own = LADDER_TABLES.some((table) => table.source && sources[table.source]);
  set(f.perSource, own);
  for (const table of LADDER_TABLES) {
    // A source without timings of its own shows the general ones: the start for its own.
    const ladders = (table.source && sources[table.source]) || esc;
    for (const [kind, kindId] of LADDER_KINDS) {
      for (const [step, stepId] of LADDER_STEPS) set(byId(ladderInputId(table, kindId, stepId)), ladders[kind]?.[step] ?? "");
    }
  }
  set(f.snoozeMinutes, n.snooze_minutes);
  set(f.sortByWait, ui.sort_by_wait);
  syncDependents();
}

/** Per-source tables start from what the general table says now, unless already edited. */
function seedSourceTables() {
  for (const table of LADDER_TABLES) {
    if (!table.source || state.settings?.notifications?.escalation?.sources?.[table.source]) continue;
    for (const [, kindId] of LADDER_KINDS) {
      for (const [, stepId] of LADDER_STEPS) {
        const input = byId(ladderInputId(table, kindId, stepId));
        if (!dirty.has(input.id)) input.value = byId(ladderInputId(LADDER_TABLES[0], kindId, stepId)).value;
      }
    }
  }
}

function syncDependents() {
  setHidden(f.queryField, f.auth.value !== "query");
  setHidden(f.quietTimes, !f.quiet.checked);
  setHidden(f.quietNewChatsField, !f.quiet.checked);
  f.sound.disabled = !f.enabled.checked;
  f.privacy.disabled = !f.enabled.checked;
  for (const button of dialog.querySelectorAll("[data-preview]")) button.disabled = byId(button.dataset.preview).value === OFF;
  const volume = t("settings.volume_value", { value: f.volume.value });
  setText(f.volumeValue, volume);
  f.volume.setAttribute("aria-valuetext", volume);
  const days = f.retentionMode.value === "days";
  setHidden(f.retentionWrap, !days);
  const count = Number(f.retentionDays.value) || 0;
  setText(f.retentionUnit, t("settings.days_unit", { count }));
  setHidden(f.escalationSettings, !f.escalation.checked);
  setHidden(f.sources, !f.perSource.checked);
}

class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

/** Parses user ids: integers, separated by commas, spaces or new lines. */
export function parseSubscriptions(text) {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  const ids = [];
  for (const part of parts) {
    if (!/^[+-]?\d+$/.test(part)) throw new FieldError("server.subscriptions", t("settings.err_subscription", { value: part }));
    const n = Number(part);
    if (!Number.isSafeInteger(n) || n === 0) throw new FieldError("server.subscriptions", t("settings.err_subscription", { value: part }));
    if (!ids.includes(n)) ids.push(n);
  }
  return ids;
}

/**
 * A whole number of minutes within the input's own min/max: the range lives once, in
 * index.html, and a Rust test holds it to the engine's. `optional`: empty means null.
 */
function readMinutes(input, field, { optional = false } = {}) {
  const raw = input.value.trim();
  if (optional && raw === "" && !input.validity.badInput) return null;
  const value = Number(raw);
  const min = Number(input.min);
  const max = Number(input.max);
  if (raw === "" || !Number.isInteger(value) || value < min || value > max) {
    throw new FieldError(field, t(optional ? "settings.err_urgent_minutes" : "settings.err_minutes"));
  }
  return value;
}

function readLadder(table, kind, kindId) {
  const ladder = {};
  for (const [step, stepId] of LADDER_STEPS) {
    const input = byId(ladderInputId(table, kindId, stepId));
    ladder[step] = readMinutes(input, ladderPath(table, kind, step), { optional: step === "urgent_after_min" });
  }
  return ladder;
}

function collect() {
  const base = structuredClone(state.settings);
  const url = f.url.value.trim();
  base.server.url = url === "" ? null : url;
  base.server.auth = f.auth.value === "query" ? "query" : "header";
  base.server.query_param = f.queryParam.value.trim();
  base.server.subscriptions = parseSubscriptions(f.subscriptions.value);
  const webPanel = f.webPanel.value.trim();
  base.server.web_panel = webPanel === "" ? null : webPanel;

  base.notifications.enabled = f.enabled.checked;
  base.notifications.sound = f.sound.checked;
  const sounds = { ...(base.notifications.sounds ?? {}) };
  for (const [kind, id] of SOUND_KINDS) {
    const tone = byId(id).value;
    sounds[kind] = tone === OFF ? null : tone;
  }
  sounds.volume = Number(f.volume.value);
  base.notifications.sounds = sounds;
  base.notifications.offline_alert_secs = f.offlineAlert.value === OFF ? null : Number(f.offlineAlert.value);
  base.notifications.privacy = f.privacy.checked;
  base.notifications.do_not_disturb = f.dnd.checked;
  if (f.quiet.checked) {
    const start = f.quietStart.value.slice(0, 5);
    const end = f.quietEnd.value.slice(0, 5);
    if (!/^\d\d:\d\d$/.test(start) || !/^\d\d:\d\d$/.test(end)) throw new FieldError("notifications.quiet_hours", t("settings.err_quiet_times"));
    if (start === end) throw new FieldError("notifications.quiet_hours", t("settings.err_quiet_same"));
    base.notifications.quiet_hours = { start, end };
  } else {
    base.notifications.quiet_hours = null;
  }
  base.notifications.quiet_hours_allow_new_chats = f.quietNewChats.checked;

  // With reminders off the tables are hidden: what they hold is kept as saved, not checked.
  const esc = base.notifications.escalation ?? {};
  esc.enabled = f.escalation.checked;
  if (esc.enabled) {
    const sources = { ...(esc.sources ?? {}) };
    for (const table of LADDER_TABLES) {
      if (!table.source) {
        for (const [kind, kindId] of LADDER_KINDS) esc[kind] = readLadder(table, kind, kindId);
      } else if (f.perSource.checked) {
        const own = {};
        for (const [kind, kindId] of LADDER_KINDS) own[kind] = readLadder(table, kind, kindId);
        sources[table.source] = own;
      } else {
        delete sources[table.source];
      }
    }
    esc.sources = sources;
  }
  base.notifications.escalation = esc;
  base.notifications.snooze_minutes = readMinutes(f.snoozeMinutes, "notifications.snooze_minutes");

  if (f.retentionMode.value === "days") {
    const days = Number(f.retentionDays.value);
    // The range lives once, on the input (checked against the engine's by a Rust test).
    const min = Number(f.retentionDays.min);
    const max = Number(f.retentionDays.max);
    if (!Number.isInteger(days) || days < min || days > max) throw new FieldError("store.retention_days", t("settings.err_days"));
    base.store.retention_days = days;
  } else {
    base.store.retention_days = null;
  }

  base.ui.language = f.language.value;
  base.ui.theme = f.theme.value;
  base.ui.start_at_login = f.startAtLogin.checked;
  base.ui.sort_by_wait = f.sortByWait.checked;
  return base;
}

async function save() {
  clearErrors();
  let settings;
  try {
    settings = collect();
  } catch (e) {
    if (e instanceof FieldError) return showFieldError(e.field, e.message);
    throw e;
  }
  const saveBtn = byId("settings-save");
  saveBtn.disabled = true;
  try {
    const info = await api.saveSettings(settings);
    setInfo(info);
    actions.applyUi(info.settings.ui);
    dialog.close();
    showToast(t("settings.saved"));
  } catch (e) {
    if (e.field && FIELD_INPUTS[e.field]) showFieldError(e.field, e.detail);
    else showGeneralError(e.message);
  } finally {
    saveBtn.disabled = false;
  }
}

/* ---- errors ---- */

function showFieldError(field, message) {
  const target = FIELD_INPUTS[field];
  if (!target) return showGeneralError(`${field}: ${message}`);
  const [inputId, tab, errorId = `${inputId}-error`] = target;
  const input = byId(inputId);
  const errorEl = byId(errorId);
  setText(errorEl, message);
  errorEl.hidden = false;
  input.setAttribute("aria-invalid", "true");
  selectTab(tab, { focus: false });
  input.focus();
}

/**
 * Editing a field hides its error: its own line, or a line it shares with others (the quiet
 * hours' two times, a table of minutes), found through aria-describedby; every input sharing
 * that line stops being marked invalid with it.
 */
function clearFieldError(inputId) {
  if (!inputId) return;
  const input = document.getElementById(inputId);
  if (!input) return;
  const errorIds = new Set([`${inputId}-error`]);
  for (const id of (input.getAttribute("aria-describedby") || "").split(/\s+/)) {
    if (id && document.getElementById(id)?.classList.contains("field-error")) errorIds.add(id);
  }
  input.removeAttribute("aria-invalid");
  for (const id of errorIds) {
    const errorEl = document.getElementById(id);
    if (!errorEl) continue;
    errorEl.hidden = true;
    for (const other of form.querySelectorAll(`[aria-describedby~="${CSS.escape(id)}"]`)) other.removeAttribute("aria-invalid");
  }
}

function showGeneralError(message) {
  const errorEl = byId("settings-error");
  setText(errorEl, message);
  errorEl.hidden = false;
}

function clearErrors() {
  for (const node of form.querySelectorAll(".field-error")) node.hidden = true;
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  byId("settings-error").hidden = true;
}

/* ---- web panel preview ---- */

/** The template as the shell would fill it for a sample chat, a moment after typing stops. */
function schedulePreview(delay) {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(runPreview, delay);
}

async function runPreview() {
  const token = ++previewToken;
  const template = f.webPanel.value.trim();
  if (template === "") {
    renderPreview({ state: "empty" });
    return;
  }
  let result;
  try {
    const filled = await api.previewWebPanel(template);
    result = { state: "ok", url: filled && typeof filled.url === "string" ? filled.url : "" };
  } catch (e) {
    result = { state: "error", message: e.detail || e.message };
  }
  // A slower answer for an older template must not overwrite a newer one.
  if (token === previewToken) renderPreview(result);
}

/** The URL is shown as text, never as a link: the preview is for reading, not for opening. */
function renderPreview(result) {
  const line = f.webPanelPreview;
  line.dataset.state = result.state;
  if (result.state === "ok") {
    line.replaceChildren(
      el("span", { class: "preview-label", text: t("settings.web_panel_preview") }),
      " ",
      el("span", { class: "preview-url", dir: "ltr", text: result.url }),
    );
  } else if (result.state === "error") {
    line.replaceChildren(el("span", { class: "preview-error", text: result.message }));
  } else {
    line.replaceChildren();
  }
  setHidden(line, result.state === "empty");
}

/* ---- tabs ---- */

function initTabs() {
  const tablist = dialog.querySelector("[role=tablist]");
  tablist.addEventListener("click", (e) => {
    const tab = e.target.closest("[role=tab]");
    if (tab) selectTab(tab.id.replace("tab-", ""), { focus: false });
  });
  tablist.addEventListener("keydown", (e) => {
    const current = TABS.findIndex((name) => byId(`tab-${name}`).getAttribute("aria-selected") === "true");
    let next = null;
    if (e.key === "ArrowRight" || e.key === "ArrowDown") next = (current + 1) % TABS.length;
    else if (e.key === "ArrowLeft" || e.key === "ArrowUp") next = (current - 1 + TABS.length) % TABS.length;
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = TABS.length - 1;
    if (next == null) return;
    e.preventDefault();
    selectTab(TABS[next], { focus: false });
    byId(`tab-${TABS[next]}`).focus();
  });
}

function selectTab(name, { focus }) {
  if (!TABS.includes(name)) name = "general";
  for (const tab of TABS) {
    const selected = tab === name;
    const button = byId(`tab-${tab}`);
    button.setAttribute("aria-selected", selected ? "true" : "false");
    button.tabIndex = selected ? 0 : -1;
    byId(`panel-${tab}`).hidden = !selected;
  }
  if (name === "diagnostics") refreshAudio();
  if (focus) {
    const first = byId(`panel-${name}`).querySelector("input:not([type=hidden]):not(:disabled), select, button");
    (first || byId(`tab-${name}`)).focus();
  }
}

/* ---- token ---- */

function renderTokenStatus() {
  const has = Boolean(state.info && state.info.has_token);
  const status = byId("token-status");
  setText(status, t(has ? "settings.token_stored" : "settings.token_none"));
  status.dataset.stored = has ? "true" : "false";
  byId("clear-token").disabled = !has;
}

async function saveToken() {
  clearFieldError("setting-token");
  const message = byId("token-message");
  message.hidden = true;
  const token = f.token.value.trim();
  if (!token) return showFieldError("token", t("settings.err_token_empty"));
  const button = byId("save-token");
  button.disabled = true;
  try {
    await api.setToken(token);
    f.token.value = "";
    setText(message, t("settings.token_saved"));
    message.hidden = false;
    await actions.refreshInfo();
  } catch (e) {
    showFieldError("token", e.detail || e.message);
  } finally {
    button.disabled = false;
  }
}

async function clearToken() {
  clearFieldError("setting-token");
  const message = byId("token-message");
  try {
    await api.clearToken();
    setText(message, t("settings.token_cleared"));
    message.hidden = false;
    await actions.refreshInfo();
  } catch (e) {
    showFieldError("token", e.detail || e.message);
  }
}

/* ---- mutes ---- */

function nameOf(userId) {
  const chat = state.chats.get(userId);
  if (chat) return chat.name;
  if (chatNames.has(userId)) return chatNames.get(userId);
  chatNames.set(userId, `#${userId}`);
  api.getChat(userId).then(
    (c) => {
      if (c) {
        chatNames.set(userId, c.name);
        if (dialog.open) renderMuted();
      }
    },
    () => {},
  );
  return `#${userId}`;
}

function renderMuted() {
  const list = byId("muted-list");
  const mutes = state.settings?.notifications?.mutes ?? {};
  const now = Date.now();
  const items = [];
  for (const [key, until] of Object.entries(mutes)) {
    const userId = Number(key);
    if (!isMuted(userId, now)) continue;
    const end = parseTime(until);
    const when = until == null ? t("mute.muted_forever") : t("mute.muted_until", { time: end && end.toDateString() === new Date().toDateString() ? timeOfDay(end) : dateTime(end) });
    const name = nameOf(userId);
    items.push(
      el("li", { class: "muted-item" }, [
        el("span", { class: "muted-name", dir: "auto", text: name }),
        el("span", { class: "muted-until", text: when }),
        el("button", {
          class: "btn btn-small",
          text: t("mute.unmute"),
          data: { unmute: userId },
          attrs: { type: "button", "aria-label": t("mute.unmute_named", { name }) },
        }),
      ]),
    );
  }
  list.replaceChildren(...items);
  setHidden(byId("muted-empty"), items.length > 0);
}

async function onUnmute(e) {
  const button = e.target.closest("[data-unmute]");
  if (!button) return;
  button.disabled = true;
  try {
    setSettings(await api.unmuteChat(Number(button.dataset.unmute)));
  } catch (err) {
    button.disabled = false;
    showToast(t("errors.command", { error: err.message }));
  }
}

/* ---- sounds ---- */

function fillToneSelect(select) {
  const options = [OFF, ...TONES].map((tone) => {
    const key = tone === OFF ? "settings.tone_off" : `tone.${tone}`;
    // data-i18n: translateDocument relabels them with the rest of the page.
    return el("option", { text: t(key), data: { i18n: key }, attrs: { value: tone } });
  });
  select.replaceChildren(...options);
}

/**
 * Makes sure `select` offers `value`: a value it does not list gets an option of its own
 * (marked data-extra, labelled by `label()`); extra options for other values go.
 */
function ensureOption(select, value, label) {
  for (const option of select.querySelectorAll("option[data-extra]")) {
    if (option.value !== value) option.remove();
  }
  if ([...select.options].some((o) => o.value === value)) return;
  select.append(el("option", { text: label(), data: { extra: "true" }, attrs: { value } }));
}

/** "45 s", "15 min": a saved offline warning time the list does not offer. */
function offlineLabel(secs) {
  const n = Number(secs);
  return n % 60 === 0 ? t("settings.offline_minutes", { count: n / 60 }) : t("settings.offline_seconds", { count: n });
}

function relabelExtraOptions() {
  for (const option of f.offlineAlert.querySelectorAll("option[data-extra]")) setText(option, offlineLabel(option.value));
}

function previewResult(select) {
  return byId(`${select.id.replace("setting-", "preview-")}-result`);
}

function clearPreviewResult(select) {
  const result = previewResult(select);
  setText(result, "");
  delete result.dataset.state;
}

/**
 * Plays the kind's chosen tone at the slider's volume (both as in the form, unsaved) and says
 * where it played, or why it did not. The button stays focusable while it plays: it is marked
 * aria-disabled and ignores presses, so the keyboard focus is not thrown out.
 */
async function previewSound(button) {
  if (button.getAttribute("aria-disabled") === "true") return;
  const select = byId(button.dataset.preview);
  const tone = select.value;
  if (tone === OFF) return;
  const result = previewResult(select);
  button.setAttribute("aria-disabled", "true");
  result.dataset.state = "busy";
  setText(result, t("settings.sound_playing"));
  try {
    const report = await api.previewSound(tone, Number(f.volume.value));
    result.dataset.state = "ok";
    setText(result, t("settings.sound_played", { device: report?.device ?? "" }));
  } catch (e) {
    result.dataset.state = "error";
    setText(result, t("settings.sound_failed", { error: e.detail || e.message }));
  } finally {
    button.removeAttribute("aria-disabled");
  }
  refreshAudio();
}

/** The Sound line of Troubleshooting: AppInfo.audio, the engine's last word on playing. */
function renderAudioStatus() {
  const line = byId("audio-status");
  const audio = state.info?.audio;
  line.dataset.state = audio?.state ?? "unknown";
  if (audio?.state === "working") {
    setText(line, t("audio.working", { device: audio.device ?? "" }));
  } else if (audio?.state === "failing") {
    const since = parseTime(audio.since);
    const time = since ? (since.toDateString() === new Date().toDateString() ? timeOfDay(since) : dateTime(since)) : "";
    setText(line, t("audio.failing", { time, error: audio.error ?? "" }));
  } else {
    setText(line, t("audio.unknown"));
  }
}

/** Reads the audio status again (with the rest of AppInfo); the "info" render shows it. */
function refreshAudio() {
  if (dialog.open) actions.refreshInfo().catch(() => {});
}

/* ---- diagnostics ---- */

async function runTest() {
  const button = byId("test-alerts");
  const report = byId("test-report");
  if (button.getAttribute("aria-disabled") === "true") return;
  button.setAttribute("aria-disabled", "true");
  report.setAttribute("aria-busy", "true");
  try {
    renderAlertTest(report, await api.testAlerts());
  } catch (e) {
    report.replaceChildren(el("p", { class: "report-line is-bad", text: t("settings.test_failed", { error: e.message }) }));
  } finally {
    report.removeAttribute("aria-busy");
    report.hidden = false;
    button.removeAttribute("aria-disabled");
  }
  loadDecisions();
  refreshAudio();
}

/**
 * One list: the sound, the notification and the tray as they fared just now, then what would
 * keep a real alert from the agent (AlertTest.blockers), in words.
 */
function renderAlertTest(report, result) {
  const blockers = Array.isArray(result?.blockers) ? result.blockers : [];
  const check = (name, ok, text) => el("li", { class: ["alert-check", ok ? "is-good" : "is-bad"], data: { check: name, ok } }, [text]);

  const sound = result?.sound ?? {};
  const played = sound.played && sound.report;
  const soundText = played
    ? t("alerts.sound_played", { device: sound.report.device ?? "", ms: Math.round(Number(sound.report.first_sample_ms) || 0) })
    : t("alerts.sound_not_played", { error: sound.error || t("alerts.no_reason") });

  const n = result?.notification ?? {};
  const server = n.server ? [n.server.name, n.server.version].filter(Boolean).join(" ") : "";
  let notificationText;
  if (n.shown) notificationText = server ? t("alerts.notification_shown", { server }) : t("alerts.notification_shown_unknown");
  else notificationText = t("alerts.notification_not_shown", { error: n.error || t("alerts.no_reason") });

  const noTray = blockers.some((b) => b && b.kind === "no_tray_host");

  const blockersItem = blockers.length
    ? el("li", { class: "alert-check alert-blockers", data: { check: "blockers", ok: false } }, [
        el("span", { text: t("alerts.blockers_title") }),
        el("ul", { class: "blockers" }, blockers.map((b) => el("li", { data: { kind: b?.kind }, text: blockerText(b) }))),
      ])
    : check("blockers", true, t("alerts.blockers_none"));

  report.replaceChildren(
    el("ul", { class: "alert-checks" }, [
      check("sound", Boolean(played), soundText),
      check("notification", Boolean(n.shown), notificationText),
      check("tray", !noTray, t(noTray ? "alerts.tray_missing" : "alerts.tray_present")),
      blockersItem,
    ]),
  );
}

const BLOCKERS = ["no_audio", "no_notification_server", "notifications_off", "sounds_off", "do_not_disturb", "quiet_hours", "no_actions", "no_persistence", "no_tray_host"];

/** A Blocker ({kind, ...}) in words; a kind this page does not know is shown as it came. */
export function blockerText(blocker) {
  const kind = blocker?.kind;
  if (!BLOCKERS.includes(kind)) return String(kind ?? "");
  return t(`blocker.${kind}`, { error: blocker.error ?? t("alerts.no_reason"), until: blocker.until ?? "" });
}

export function reasonText(reason) {
  const known = ["notifications_off", "do_not_disturb", "quiet_hours", "muted", "chat_open_and_focused", "duplicate", "snoozed"];
  return known.includes(reason) ? t(`reason.${reason}`) : String(reason);
}

async function loadDecisions() {
  const list = byId("decisions-list");
  const empty = byId("decisions-empty");
  let entries;
  try {
    entries = await api.recentDecisions();
  } catch (e) {
    list.replaceChildren(el("li", { class: "decision is-bad", text: t("settings.why_failed", { error: e.message }) }));
    empty.hidden = true;
    return;
  }
  const newestFirst = [...(entries || [])].reverse().slice(0, MAX_DECISIONS);
  list.replaceChildren(...newestFirst.map(decisionItem));
  empty.hidden = newestFirst.length > 0;
}

function slotName(slot) {
  // Slot is {slot: "chat", user_id}, {slot: "digest"} or {slot: "waiting"} (the reminder about
  // several waiting chats); tolerate a bare user id too.
  if (slot == null) return "";
  if (typeof slot === "number") return nameOf(slot);
  if (slot.slot === "digest" || slot === "digest") return t("diag.digest");
  if (slot.slot === "waiting" || slot === "waiting") return t("diag.waiting_digest");
  if (slot.slot === "connection" || slot === "connection") return t("diag.connection");
  if (slot.user_id != null) return nameOf(slot.user_id);
  return "";
}

function decisionItem(d) {
  if (d.type === "delivery") {
    const who = slotName(d.slot);
    let text;
    let tone;
    if (d.result === "shown") {
      // The reminder about waiting chats counts chats, and its summary already says how many.
      const waitingSlot = d.slot && d.slot.slot === "waiting";
      text = d.count > 1 && !waitingSlot ? t("diag.shown_count", { summary: d.summary ?? "", count: d.count }) : t("diag.shown", { summary: d.summary ?? "" });
      if (d.replaced) text += ` ${t("diag.replaced")}`;
      tone = "shown";
    } else if (d.result === "closed") {
      text = t("diag.closed");
      tone = "closed";
    } else {
      text = t("diag.failed", { error: d.error ?? "" });
      tone = "failed";
    }
    return el("li", { class: "decision", data: { outcome: tone } }, [
      el("span", { class: "decision-time" }),
      el("span", { class: "decision-chat", dir: "auto", text: who }),
      el("span", { class: "decision-text", text }),
    ]);
  }
  const at = parseTime(d.at);
  const kind = t(d.kind === "new_chat" ? "diag.kind_new_chat" : "diag.kind_new_message");
  const step = d.escalation || null;
  const parts = [kind];
  if (step) parts.push(escalationText(step));
  parts.push(outcomeText(d, step));
  return el("li", { class: "decision", data: { outcome: d.outcome, level: step ? step.level : null, step: step ? step.step : null } }, [
    el("time", { class: "decision-time", text: at ? dateTime(at) : "", attrs: { datetime: d.at } }),
    el("span", { class: "decision-chat", dir: "auto", text: `${nameOf(d.user_id)}` }),
    el("span", { class: "decision-text", text: parts.join(" — ") }),
  ]);
}

/** "Re-alert 2 · waited 4 min" or "Urgent · waited 10 min": a reminder after the first notification. */
function escalationText(step) {
  const waited = duration((Number(step.waited_secs) || 0) * 1000);
  return step.level === "urgent" ? t("diag.urgent", { duration: waited }) : t("diag.realert", { step: step.step, duration: waited });
}

// Quiet hours and Do not disturb hold a reminder: it comes when they end, if the customer still waits.
const HOLDING = ["quiet_hours", "do_not_disturb"];

function outcomeText(d, step) {
  if (d.outcome === "allowed") return t("diag.allowed");
  if (step && HOLDING.includes(d.reason)) return t("diag.held", { reason: reasonText(d.reason) });
  return t("diag.suppressed", { reason: reasonText(d.reason) });
}

function renderAbout() {
  const info = state.info;
  if (!info) return;
  setText(byId("about-line"), t("settings.about", { version: info.version, mode: t(`mode.${info.mode}`) }));
}

