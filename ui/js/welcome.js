// First run: connect to a real service, or try the built-in demo. Shown only while nothing is
// configured and the welcome has not been answered.

import * as api from "./api.js";
import { byId, setText } from "./dom.js";
import { t } from "./i18n/index.js";
import { setInfo, state, subscribe } from "./state.js";
import { errorText } from "./problems.js";

let root;
// Held open from the moment Connect is pressed until the token is stored too: saving the
// address already marks the welcome as done, which would otherwise hide a later token error.
let pinned = false;

export function initWelcome() {
  root = byId("welcome");
  byId("welcome-form").addEventListener("submit", (e) => {
    e.preventDefault();
    connect();
  });
  byId("welcome-demo").addEventListener("click", startDemo);
  byId("welcome-skip").addEventListener("click", skip);
  for (const id of ["welcome-url", "welcome-token"]) {
    byId(id).addEventListener("input", () => showError(id, null));
  }
  subscribe("info", renderWelcome);
  subscribe("settings", renderWelcome);
}

export function shouldShowWelcome(s) {
  return Boolean(s.info && s.info.mode === "unconfigured" && s.settings && !s.settings.ui.welcome_done);
}

export function renderWelcome(s) {
  const show = pinned || shouldShowWelcome(s);
  if (root.hidden === !show) return;
  root.hidden = !show;
  document.getElementById("app").inert = show;
  if (show) byId("welcome-url").focus();
}

export function isWelcomeOpen() {
  return root && !root.hidden;
}

function showError(inputId, message) {
  const error = byId(`${inputId}-error`);
  const input = byId(inputId);
  setText(error, message || "");
  error.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

function busy(on) {
  for (const id of ["welcome-connect", "welcome-demo", "welcome-skip"]) byId(id).disabled = on;
}

async function connect() {
  const url = byId("welcome-url").value.trim();
  const token = byId("welcome-token").value.trim();
  showError("welcome-url", null);
  showError("welcome-token", null);
  if (!url) {
    showError("welcome-url", t("welcome.err_url_empty"));
    byId("welcome-url").focus();
    return;
  }
  if (!token) {
    showError("welcome-token", t("welcome.err_token_empty"));
    byId("welcome-token").focus();
    return;
  }
  busy(true);
  pinned = true;
  const base = structuredClone(state.settings);
  const settings = { ...base, server: { ...base.server, url }, ui: { ...base.ui, welcome_done: true } };
  let info;
  try {
    info = await api.saveSettings(settings);
  } catch (e) {
    busy(false);
    pinned = false;
    // The address is the one setting asked here: the engine's problem with it, in words.
    showError("welcome-url", e.kind === "setting" ? errorText(e) : e.message);
    byId("welcome-url").focus();
    return;
  }
  try {
    await api.setSecret("token", token);
    byId("welcome-token").value = "";
    info = await api.appInfo().catch(() => info);
  } catch (e) {
    // The address is saved; the welcome stays up until the token is accepted too.
    busy(false);
    showError("welcome-token", e.message);
    byId("welcome-token").focus();
    return;
  }
  busy(false);
  pinned = false;
  setInfo(info);
  renderWelcome(state);
}

async function startDemo() {
  byId("welcome-demo-error").hidden = true;
  busy(true);
  try {
    const info = await api.startDemo();
    setInfo(info);
  } catch (e) {
    setText(byId("welcome-demo-error"), e.message);
    byId("welcome-demo-error").hidden = false;
  } finally {
    busy(false);
  }
}

async function skip() {
  busy(true);
  pinned = false;
  try {
    const base = state.settings;
    setInfo(await api.saveSettings({ ...base, ui: { ...base.ui, welcome_done: true } }));
    renderWelcome(state);
  } catch (e) {
    setText(byId("welcome-demo-error"), e.message);
    byId("welcome-demo-error").hidden = false;
  } finally {
    busy(false);
  }
}
