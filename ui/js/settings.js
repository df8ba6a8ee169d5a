// The settings dialog. The form is a draft over the current Settings: Save sends the whole
// object (the engine validates it and names the field it refuses, with the problem), Cancel
// throws the draft away. Each tab is its own module (settings/general.js, connection.js,
// notifications.js; Troubleshooting is diagnostics.js); this one opens and closes the dialog,
// switches tabs, fills and collects the draft through them, shows an error on the field it
// names (settings/fields.js) and what the organization locked (settings/locks.js). The secrets (token, proxy password, key passphrase, each
// forwarding target's), mutes, the diagnostics, Check connection and a target's Send test act at once: not in the draft.

import * as api from "./api.js";
import { byId } from "./dom.js";
import { t } from "./i18n/index.js";
import { setInfo, setSettings, state, subscribe } from "./state.js";
import { showToast } from "./banners.js";
import { initDiagnostics, loadDecisions, refreshAudio, renderAudioStatus, resetDiagnostics } from "./diagnostics.js";
import {
  FieldError, applyLimits, clearErrors, clearInputError, inputFor, settingErrorText, showGeneralError, showInputError,
} from "./settings/fields.js";
import { collectGeneral, fillGeneral, initGeneral, renderAbout, syncGeneral } from "./settings/general.js";
import {
  collectConnection, connectionFocus, fillConnection, initConnection, relabelConnection, resetConnection, syncConnection,
} from "./settings/connection.js";
import {
  collectNotifications, fillNotifications, initNotifications, relabelNotifications, renderMuted, resetNotifications, syncNotifications,
} from "./settings/notifications.js";
import { renderSecrets } from "./settings/secrets.js";
import { holdLocks, isLocked, releaseLocks } from "./settings/locks.js";
import { settingToFix } from "./net-words.js";
import { resetSounds } from "./settings/sounds.js";

const TABS = ["general", "connection", "notifications", "diagnostics"];

let dialog, form;
let actions = { applyUi: () => {}, refreshInfo: async () => {} };
let dirty = new Set();
const isDirty = (id) => dirty.has(id);

export function initSettings(a) {
  actions = { ...actions, ...a };
  dialog = byId("settings-dialog");
  form = byId("settings-form");
  const refresh = () => actions.refreshInfo();
  initGeneral(dialog, { preview: (ui) => actions.applyUi(ui) });
  initConnection(dialog, { refresh, showFieldError });
  initNotifications(dialog, { refresh, isDirty, showFieldError, edited });
  initDiagnostics({ refresh: () => (dialog.open ? refresh() : Promise.resolve()) });

  byId("settings-button").addEventListener("click", () => openSettings());
  byId("settings-close").addEventListener("click", cancel);
  byId("settings-cancel").addEventListener("click", cancel);
  dialog.addEventListener("cancel", (e) => {
    e.preventDefault();
    cancel();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    save();
  });
  form.addEventListener("input", (e) => {
    if (e.target.id) dirty.add(e.target.id);
    clearInputError(form, e.target);
    syncDependents();
  });
  form.addEventListener("change", (e) => {
    if (e.target.id) dirty.add(e.target.id);
    syncDependents();
  });

  initTabs();

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
    applyLimits(form);
    renderDndButton(state);
    if (!dialog.open) return;
    // What the organization locks may have changed (its file did).
    syncDependents();
    renderSecrets();
    renderAudioStatus();
  });
  subscribe("lang", () => {
    renderDndButton(state);
    if (!dialog.open) return;
    syncDependents();
    relabelConnection();
    relabelNotifications();
    renderAbout();
    renderAudioStatus();
  });
  subscribe("mutes", () => dialog.open && renderMuted());
}

function renderDndButton(s) {
  const on = Boolean(s.settings?.notifications?.do_not_disturb);
  const button = byId("dnd-button");
  button.setAttribute("aria-pressed", on ? "true" : "false");
  button.classList.toggle("is-active", on);
  const locked = isLocked("notifications.do_not_disturb");
  button.disabled = locked;
  const label = t(on ? "dnd.label_on" : "dnd.label");
  button.setAttribute("aria-label", label);
  button.title = locked ? `${label} · ${t("settings.locked")}` : label;
}

/* ---- open / close ---- */

export function isSettingsOpen() {
  return Boolean(dialog && dialog.open);
}

export function openSettings(tab = "general") {
  if (!state.settings) return;
  if (!dialog.open) {
    dirty = new Set();
    clearErrors(form);
    byId("settings-error").hidden = true;
    applyLimits(form);
    resetNotifications();
    fillForm(state.settings, { onlyClean: false });
    resetConnection();
    resetDiagnostics();
    resetSounds();
    renderAudioStatus();
    renderMuted();
    renderAbout();
    dialog.showModal();
  }
  selectTab(tab, { focus: true });
  loadDecisions();
}

/**
 * Settings → Connection with the field that needs the agent: `field` when given (a secret's
 * name such as "proxy_password", or a setting's path: the status bar's button for the failure
 * it shows), else the one that fixes the connection's trouble, else the server address while
 * there is none, else the token. Asked for by the shell (`chatbell:open-settings`, the "token
 * refused" notification's button) and the status bar.
 */
export function openServerSettings(field = null) {
  if (!state.settings) return;
  openSettings("connection");
  const input = connectionFocus(field ?? settingToFix(state.connection));
  input.focus();
  // A field low in the long tab shows in the middle, with its label and help around it.
  input.scrollIntoView({ block: "center" });
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
  const cleanOnly = (id) => onlyClean && dirty.has(id);
  fillGeneral(settings, set);
  fillConnection(settings.server, set);
  fillNotifications(settings, set, cleanOnly);
  syncDependents();
}

/** The draft changed without an input event (a forwarding target added or removed): `id` is dirty. */
function edited(id) {
  dirty.add(id);
  syncDependents();
}

/** The form's own rules (a field that depends on another), then the organization's locks over them. */
function syncDependents() {
  releaseLocks(form);
  syncGeneral();
  syncConnection();
  syncNotifications();
  holdLocks(form);
}

function collect() {
  const base = structuredClone(state.settings);
  collectGeneral(base);
  collectConnection(base.server);
  collectNotifications(base);
  return base;
}

async function save() {
  clearErrors(form);
  byId("settings-error").hidden = true;
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
    if (e.kind === "setting") showFieldError(e.field, settingErrorText(e, inputFor(form, e.field)));
    else showGeneralError(e.message);
  } finally {
    saveBtn.disabled = false;
  }
}

/** Shows `message` on the input that edits `field`, on its tab; else in the form's error line. */
function showFieldError(field, message) {
  const input = inputFor(form, field);
  if (!input || !showInputError(input, message)) return showGeneralError(message);
  const panel = input.closest("[role=tabpanel]");
  if (panel) selectTab(panel.id.replace("panel-", ""), { focus: false });
  input.focus();
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
