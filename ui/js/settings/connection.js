// Settings → Connection: the server's address, how the token travels, the token itself (saved
// at once to the keychain, never part of the draft), whose chats to receive, and the web panel
// link with a preview filled for a sample chat.

import * as api from "../api.js";
import { byId, el, setHidden, setText } from "../dom.js";
import { t } from "../i18n/index.js";
import { state } from "../state.js";
import { FieldError, clearInputError, settingErrorText, showInputError } from "./fields.js";

const PREVIEW_DEBOUNCE_MS = 200;

let f = {};
let refreshInfo = async () => {};
let previewTimer = 0;
let previewToken = 0;

export function initConnection(dialog, { refresh }) {
  refreshInfo = refresh;
  f = {
    url: byId("setting-url"),
    auth: byId("setting-auth"),
    queryParam: byId("setting-query-param"),
    queryField: byId("query-param-field"),
    token: byId("setting-token"),
    subscriptions: byId("setting-subscriptions"),
    webPanel: byId("setting-web-panel"),
    webPanelPreview: byId("web-panel-preview"),
  };
  byId("save-token").addEventListener("click", saveToken);
  byId("clear-token").addEventListener("click", clearToken);
  f.token.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      saveToken();
    }
  });
  f.webPanel.addEventListener("input", () => schedulePreview(PREVIEW_DEBOUNCE_MS));
  dialog.addEventListener("close", () => clearTimeout(previewTimer));
}

/** On opening the dialog: no token typed, no word on the last one saved. */
export function resetConnection() {
  f.token.value = "";
  setHidden(byId("token-message"), true);
  renderTokenStatus();
  schedulePreview(0);
}

/** The field that needs the agent: the server address while there is none, else the token. */
export function connectionFocus() {
  return f.url.value.trim() === "" ? f.url : f.token;
}

export function fillConnection(server, set) {
  const webPanelBefore = f.webPanel.value;
  set(f.url, server.url ?? "");
  set(f.auth, server.auth);
  set(f.queryParam, server.query_param);
  set(f.subscriptions, (server.subscriptions || []).join(", "));
  set(f.webPanel, server.web_panel ?? "");
  if (f.webPanel.value !== webPanelBefore) schedulePreview(0);
}

export function collectConnection(server) {
  const url = f.url.value.trim();
  server.url = url === "" ? null : url;
  server.auth = f.auth.value === "query" ? "query" : "header";
  server.query_param = f.queryParam.value.trim();
  server.subscriptions = parseSubscriptions(f.subscriptions.value);
  const webPanel = f.webPanel.value.trim();
  server.web_panel = webPanel === "" ? null : webPanel;
}

export function syncConnection() {
  setHidden(f.queryField, f.auth.value !== "query");
}

/** The language changed: what this section words itself. */
export function relabelConnection() {
  schedulePreview(0);
  renderTokenStatus();
}

/** Parses user ids: integers, separated by commas, spaces or new lines. */
function parseSubscriptions(text) {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  const ids = [];
  for (const part of parts) {
    const n = Number(part);
    if (!/^[+-]?\d+$/.test(part) || !Number.isSafeInteger(n) || n === 0) {
      throw new FieldError(f.subscriptions.dataset.field, t("settings.err_subscription", { value: part }));
    }
    if (!ids.includes(n)) ids.push(n);
  }
  return ids;
}

/* ---- token ---- */

export function renderTokenStatus() {
  const has = Boolean(state.info && state.info.has_token);
  const status = byId("token-status");
  setText(status, t(has ? "settings.token_stored" : "settings.token_none"));
  status.dataset.stored = has ? "true" : "false";
  byId("clear-token").disabled = !has;
}

async function saveToken() {
  clearInputError(f.token.form, f.token);
  const message = byId("token-message");
  message.hidden = true;
  const token = f.token.value.trim();
  if (!token) {
    showInputError(f.token, t("settings.err_token_empty"));
    f.token.focus();
    return;
  }
  const button = byId("save-token");
  button.disabled = true;
  try {
    await api.setToken(token);
    f.token.value = "";
    setText(message, t("settings.token_saved"));
    message.hidden = false;
    await refreshInfo();
  } catch (e) {
    showInputError(f.token, e.message);
    f.token.focus();
  } finally {
    button.disabled = false;
  }
}

async function clearToken() {
  clearInputError(f.token.form, f.token);
  const message = byId("token-message");
  try {
    await api.clearToken();
    setText(message, t("settings.token_cleared"));
    message.hidden = false;
    await refreshInfo();
  } catch (e) {
    showInputError(f.token, e.message);
  }
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
    // server.web_panel's problem, worded as Save would word it.
    result = { state: "error", message: settingErrorText(e, f.webPanel) };
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
