// Strings live in one dictionary per language; the UI never concatenates translated words,
// it passes parameters, so word order and plural forms stay the translator's business.

import en from "./en.js";
import ru from "./ru.js";

const dictionaries = { en, ru };
export const LANGUAGES = ["en", "ru"];

let lang = "en";
let locale = "en";
let plurals = new Intl.PluralRules("en");

/** "system" follows the OS (navigator.language); anything we do not ship falls back to English. */
export function resolveLanguage(setting) {
  if (LANGUAGES.includes(setting)) return setting;
  const preferred = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  const base = preferred.toLowerCase().split("-")[0];
  return LANGUAGES.includes(base) ? base : "en";
}

// Keep the user's region (en-GB gets a 24-hour clock) when it matches the chosen language.
function localeFor(language) {
  const preferred = (navigator.languages && navigator.languages[0]) || navigator.language || language;
  return preferred.toLowerCase().split("-")[0] === language ? preferred : language;
}

export function setLanguage(language) {
  lang = LANGUAGES.includes(language) ? language : "en";
  locale = localeFor(lang);
  try {
    plurals = new Intl.PluralRules(locale);
  } catch {
    locale = lang;
    plurals = new Intl.PluralRules(lang);
  }
  document.documentElement.lang = lang;
  translateDocument(document);
}

export function currentLocale() {
  return locale;
}

/**
 * Translates `key`. Entries may be plural objects ({ one, few, many, other }) chosen by
 * params.count. `{name}` placeholders are replaced from params.
 */
export function t(key, params = {}) {
  let entry = dictionaries[lang][key] ?? en[key];
  if (entry == null) return key;
  if (typeof entry === "object") {
    const form = plurals.select(Number(params.count ?? 0));
    entry = entry[form] ?? entry.other;
  }
  return entry.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}

/** Static text in index.html: data-i18n="key" and data-i18n-attr="attr:key; attr:key". */
export function translateDocument(root) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    const value = t(node.dataset.i18n);
    if (node.textContent !== value) node.textContent = value;
  }
  for (const node of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of node.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":").map((s) => s.trim());
      if (attr && key) node.setAttribute(attr, t(key));
    }
  }
}
