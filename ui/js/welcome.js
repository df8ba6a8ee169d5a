// First run: connect to a real service, or try the built-in demo. Shown until the welcome is
// answered, while nothing is configured, or while the organization's file gave the server (as a
// default, filled in; locked, shown and not asked) and the token is still to be entered.

import * as api from "./api.js";
import { byId, setHidden, setText } from "./dom.js";
import { t } from "./i18n/index.js";
import { setInfo, state, subscribe } from "./state.js";
import { errorText } from "./problems.js";
import { isLocked } from "./settings/locks.js";

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
  subscribe("lang", renderWelcome);
}

export function shouldShowWelcome(s) {
  if (!s.info || !s.settings || s.settings.ui.welcome_done) return false;
  return s.info.mode === "unconfigured" || (s.info.mode === "server" && !s.info.has_token);
}

/** The server's address as the organization locked it, or null. */
function lockedUrl(s) {
  const url = s.settings?.server?.url;
  return url && isLocked("server.url") ? url : null;
}

export function renderWelcome(s) {
  const show = pinned || shouldShowWelcome(s);
  renderServer(s);
  if (root.hidden === !show) return;
  root.hidden = !show;
  document.getElementById("app").inert = show;
  if (show) byId(lockedUrl(s) ? "welcome-token" : "welcome-url").focus();
}

/** A locked address is shown, not asked; one the organization suggests is filled in. */
function renderServer(s) {
  const locked = lockedUrl(s);
  setHidden(byId("welcome-url-field"), Boolean(locked));
  setHidden(byId("welcome-url-locked"), !locked);
  setText(byId("welcome-url-locked"), locked ? t("welcome.url_locked", { url: locked }) : "");
  const input = byId("welcome-url");
  const suggested = s.settings?.server?.url;
  if (!locked && suggested && input.value === "") input.value = suggested;
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
  const url = lockedUrl(state) ?? byId("welcome-url").value.trim();
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
    // The address is the one setting asked here: the engine's problem with it, in words (by
    // the token when the address is the organization's and not shown as a field).
    const field = lockedUrl(state) ? "welcome-token" : "welcome-url";
    showError(field, e.kind === "setting" ? errorText(e) : e.message);
    byId(field).focus();
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
