// Settings → Connection: the server's address, how the token travels, whose chats to receive,
// the web panel link with a preview filled for a sample chat, the proxy and the certificates
// (paths, typed). The secrets (token, proxy password, key passphrase) are saved at once to the
// keychain, never part of the draft (secrets.js); Check connection tries this tab's draft
// before it is saved (check.js).

import * as api from "../api.js";
import { byId, el, setHidden } from "../dom.js";
import { t } from "../i18n/index.js";
import { state } from "../state.js";
import { FieldError, inputFor, settingErrorText } from "./fields.js";
import { initCheck, relabelCheck, resetCheck } from "./check.js";
import { initSecrets, renderSecrets, resetSecrets, secretInput } from "./secrets.js";

const PREVIEW_DEBOUNCE_MS = 200;
// server.proxy's words that are not a URL; anything else is the proxy's URL.
const PROXY_CHOICES = ["system", "none"];

let f = {};
let previewTimer = 0;
let previewToken = 0;

export function initConnection(dialog, { refresh, showFieldError }) {
  f = {
    panel: byId("panel-connection"),
    url: byId("setting-url"),
    auth: byId("setting-auth"),
    queryParam: byId("setting-query-param"),
    queryField: byId("query-param-field"),
    subscriptions: byId("setting-subscriptions"),
    webPanel: byId("setting-web-panel"),
    webPanelPreview: byId("web-panel-preview"),
    proxyMode: byId("setting-proxy-mode"),
    proxy: byId("setting-proxy"),
    proxyField: byId("proxy-url-field"),
    caFile: byId("setting-ca-file"),
    clientCert: byId("setting-client-cert"),
    clientKey: byId("setting-client-key"),
  };
  initSecrets({ refresh });
  initCheck({ draftServer, showFieldError });
  f.webPanel.addEventListener("input", () => schedulePreview(PREVIEW_DEBOUNCE_MS));
  dialog.addEventListener("close", () => clearTimeout(previewTimer));
}

/** On opening the dialog: no secret typed, no word on the last one saved, no check shown. */
export function resetConnection() {
  resetSecrets();
  resetCheck();
  schedulePreview(0);
}

/**
 * The input that needs the agent: `field` when given (a secret's name, "proxy_password", or a
 * setting's path, "server.tls.ca_file"), else the server address while there is none, else the
 * token.
 */
export function connectionFocus(field = null) {
  if (field) {
    const input = secretInput(field) ?? inputFor(f.panel, field);
    // The proxy's URL shows only when a proxy is chosen: else the choice itself.
    if (input === f.proxy && f.proxyField.hidden) return f.proxyMode;
    if (input) return input;
  }
  return f.url.value.trim() === "" ? f.url : secretInput("token");
}

export function fillConnection(server, set) {
  const webPanelBefore = f.webPanel.value;
  set(f.url, server.url ?? "");
  set(f.auth, server.auth);
  set(f.queryParam, server.query_param);
  set(f.subscriptions, (server.subscriptions || []).join(", "));
  set(f.webPanel, server.web_panel ?? "");
  if (f.webPanel.value !== webPanelBefore) schedulePreview(0);
  const proxy = typeof server.proxy === "string" ? server.proxy : "system";
  const choice = PROXY_CHOICES.includes(proxy) ? proxy : "url";
  set(f.proxyMode, choice);
  if (choice === "url") set(f.proxy, proxy);
  const tls = server.tls || {};
  set(f.caFile, tls.ca_file ?? "");
  set(f.clientCert, tls.client_cert ?? "");
  set(f.clientKey, tls.client_key ?? "");
}

export function collectConnection(server) {
  const url = f.url.value.trim();
  server.url = url === "" ? null : url;
  server.auth = f.auth.value === "query" ? "query" : "header";
  server.query_param = f.queryParam.value.trim();
  server.subscriptions = parseSubscriptions(f.subscriptions.value);
  const webPanel = f.webPanel.value.trim();
  server.web_panel = webPanel === "" ? null : webPanel;
  server.proxy = collectProxy();
  const path = (input) => (input.value.trim() === "" ? null : input.value.trim());
  server.tls = { ...(server.tls || {}), ca_file: path(f.caFile), client_cert: path(f.clientCert), client_key: path(f.clientKey) };
}

/** The draft of this tab alone, over the saved server settings: what Check connection tries. */
function draftServer() {
  const server = structuredClone(state.settings.server);
  collectConnection(server);
  return server;
}

function collectProxy() {
  if (PROXY_CHOICES.includes(f.proxyMode.value)) return f.proxyMode.value;
  const url = f.proxy.value.trim();
  if (url === "") throw new FieldError(f.proxy.dataset.field, t("settings.err_proxy_empty"));
  return url;
}

export function syncConnection() {
  setHidden(f.queryField, f.auth.value !== "query");
  setHidden(f.proxyField, f.proxyMode.value !== "url");
}

/** The language changed: what this section words itself. */
export function relabelConnection() {
  schedulePreview(0);
  renderSecrets();
  relabelCheck();
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
