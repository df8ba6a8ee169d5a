// Settings → Connection's "Check connection": connects once with this tab's draft (the address,
// the proxy, the certificates, as typed, before they are saved; the secrets as stored) and says
// what happened: the route it took, which certificates it trusted and who issued the server's,
// or the failure's cause and what to do about it (net-words.js). Nothing is saved.

import * as api from "../api.js";
import { byId, el, setHidden } from "../dom.js";
import { t } from "../i18n/index.js";
import { failureWords, routeWords, trustWords } from "../net-words.js";
import { FieldError, inputFor, settingErrorText } from "./fields.js";

let button, result;
let draftServer = () => null;
let showFieldError = () => {};
// The last outcome shown, to word again when the language changes.
let shown = null;
// A newer check's answer wins over an older, slower one.
let checkToken = 0;

export function initCheck(options) {
  ({ draftServer, showFieldError } = options);
  button = byId("check-connection");
  result = byId("check-result");
  button.addEventListener("click", check);
}

/** On opening the dialog: no result of an earlier check. */
export function resetCheck() {
  checkToken++;
  shown = null;
  button.disabled = false;
  render();
}

export function relabelCheck() {
  render();
}

async function check() {
  let server;
  try {
    server = draftServer();
  } catch (e) {
    if (e instanceof FieldError) {
      showFieldError(e.field, e.message);
      return;
    }
    throw e;
  }
  if (!server.url) {
    showFieldError("server.url", t("settings.err_check_no_url"));
    return;
  }
  const token = ++checkToken;
  button.disabled = true;
  shown = { state: "checking" };
  render();
  let outcome;
  try {
    outcome = { state: "ok", report: await api.checkConnection(server) };
  } catch (e) {
    outcome = { state: "failed", error: e };
  }
  if (token !== checkToken) return;
  button.disabled = false;
  if (outcome.state === "failed" && outcome.error.kind === "setting") {
    // A value the engine refuses (as Save would): said on its field.
    const error = outcome.error;
    shown = null;
    render();
    showFieldError(error.field, settingErrorText(error, inputFor(byId("settings-form"), error.field)));
    return;
  }
  shown = outcome;
  render();
}

function line(text, cls = "") {
  return el("p", { class: ["check-line", cls], text });
}

function render() {
  if (!shown) {
    result.replaceChildren();
    result.dataset.state = "idle";
    setHidden(result, true);
    return;
  }
  result.dataset.state = shown.state;
  if (shown.state === "checking") {
    result.replaceChildren(line(t("settings.check_running"), "check-headline"));
  } else if (shown.state === "ok") {
    const { route, trust, issuer } = shown.report;
    const lines = [
      line(t("settings.check_ok"), "check-headline"),
      line(t("settings.check_route", { route: routeWords(route) }), "check-route"),
    ];
    // None for ws://: nothing was verified.
    lines.push(line(trust ? t("settings.check_trust", { trust: trustWords(trust) }) : t("settings.check_plain"), "check-trust"));
    if (issuer) lines.push(line(t("settings.check_issuer", { issuer }), "check-issuer"));
    result.replaceChildren(...lines);
  } else {
    const error = shown.error;
    if (error.kind === "net" && error.failure) {
      const words = failureWords(error.failure);
      result.dataset.kind = error.failure.kind;
      result.replaceChildren(line(words.what, "check-headline check-what"), line(words.todo, "check-todo"));
    } else {
      result.replaceChildren(line(t("settings.check_failed", { error: error.message }), "check-headline"));
    }
  }
  if (shown.state !== "failed") delete result.dataset.kind;
  setHidden(result, false);
  // The button is at the end of a long tab: the answer shows under it, in view.
  result.scrollIntoView({ block: "nearest" });
}
