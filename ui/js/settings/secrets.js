// The secrets of Settings → Connection: the API token, the proxy password and the client key's
// passphrase. Each is saved at once to the system keychain (`set_secret`, `clear_secret`), never
// part of the settings draft and never shown again: the page only says whether one is stored
// (AppInfo.has_token, has_proxy_password, has_key_passphrase).

import * as api from "../api.js";
import { byId, setHidden, setText } from "../dom.js";
import { t, translateDocument } from "../i18n/index.js";
import { state } from "../state.js";
import { clearInputError, showInputError } from "./fields.js";

// The secrets, by their name in the contract (SecretName). Each is a copy of #secret-template in
// its slot ([data-secret="<name>"]), its elements named after it ("proxy_password":
// #setting-proxy-password, #save-proxy-password, #clear-proxy-password, #proxy-password-status,
// #proxy-password-message, #setting-proxy-password-error), AppInfo's has_<name> saying whether
// one is stored, and its words "settings.<name>" (the label), "settings.<name>_<word>" for each
// of WORDS, and "settings.err_<name>_empty".
const SECRETS = ["token", "proxy_password", "key_passphrase"];
// (src-tauri/tests/ui_words.rs reads both lists.)
const WORDS = ["placeholder", "save", "clear", "help", "stored", "none", "saved", "cleared"];

/** Builds the secret's field in its slot; its elements. */
function build(name) {
  const slug = name.replaceAll("_", "-");
  const slot = document.querySelector(`[data-secret="${name}"]`);
  slot.replaceChildren(byId("secret-template").content.cloneNode(true));
  const part = (key) => slot.querySelector(`[data-part="${key}"]`);
  const ids = { input: `setting-${slug}`, save: `save-${slug}`, clear: `clear-${slug}`, status: `${slug}-status`, message: `${slug}-message`, error: `setting-${slug}-error`, help: `${slug}-help` };
  for (const [key, id] of Object.entries(ids)) part(key).id = id;
  part("label").htmlFor = ids.input;
  part("label").dataset.i18n = `settings.${name}`;
  part("input").dataset.i18nAttr = `placeholder:settings.${name}_placeholder`;
  part("input").setAttribute("aria-describedby", `${ids.error} ${ids.help}`);
  for (const key of ["save", "clear", "help"]) part(key).dataset.i18n = `settings.${name}_${key}`;
  translateDocument(slot);
  return {
    name,
    input: part("input"),
    save: part("save"),
    clear: part("clear"),
    status: part("status"),
    message: part("message"),
    // A token never has spaces around it; a password may, and is sent as typed.
    trim: name === "token",
  };
}

const word = (name, what) => t(what === "empty" ? `settings.err_${name}_empty` : `settings.${name}_${what}`);

let refreshInfo = async () => {};

let secrets = [];

export function initSecrets({ refresh }) {
  refreshInfo = refresh;
  secrets = SECRETS.map(build);
  for (const secret of secrets) {
    secret.save.addEventListener("click", () => save(secret));
    secret.clear.addEventListener("click", () => clear(secret));
    secret.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        save(secret);
      }
    });
  }
}

/** On opening the dialog: nothing typed, no word on the last one saved. */
export function resetSecrets() {
  for (const secret of secrets) {
    secret.input.value = "";
    setHidden(secret.message, true);
  }
  renderSecrets();
}

/** Whether each secret is stored, from AppInfo (never what it is). */
export function renderSecrets() {
  for (const secret of secrets) {
    const has = Boolean(state.info?.[`has_${secret.name}`]);
    setText(secret.status, word(secret.name, has ? "stored" : "none"));
    secret.status.dataset.stored = has ? "true" : "false";
    secret.clear.disabled = !has;
  }
}

/** The input of the secret `name` ("token", "proxy_password", "key_passphrase"). */
export function secretInput(name) {
  return secrets.find((s) => s.name === name)?.input ?? null;
}

async function save(secret) {
  const { input, message } = secret;
  clearInputError(input.form, input);
  message.hidden = true;
  const value = secret.trim ? input.value.trim() : input.value;
  if (value.trim() === "") {
    showInputError(input, word(secret.name, "empty"));
    input.focus();
    return;
  }
  const button = secret.save;
  button.disabled = true;
  try {
    await api.setSecret(secret.name, value);
    input.value = "";
    setText(message, word(secret.name, "saved"));
    message.hidden = false;
    await refreshInfo();
  } catch (e) {
    showInputError(input, e.message);
    input.focus();
  } finally {
    button.disabled = false;
  }
}

async function clear(secret) {
  const { input, message } = secret;
  clearInputError(input.form, input);
  try {
    await api.clearSecret(secret.name);
    setText(message, word(secret.name, "cleared"));
    message.hidden = false;
    await refreshInfo();
  } catch (e) {
    showInputError(input, e.message);
  }
}
