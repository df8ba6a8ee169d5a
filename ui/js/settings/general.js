// Settings → General: language and theme (shown at once, put back by Cancel), start at login,
// how long history is kept, and the version line.

import { byId, setHidden, setText } from "../dom.js";
import { t } from "../i18n/index.js";
import { state } from "../state.js";
import { readNumber } from "./fields.js";

let f = {};

/** `preview(ui)`: shows a language or theme before it is saved. */
export function initGeneral(dialog, { preview }) {
  f = {
    startAtLogin: byId("setting-start-at-login"),
    language: byId("setting-language"),
    theme: byId("setting-theme"),
    retentionMode: byId("setting-retention-mode"),
    retentionDays: byId("setting-retention-days"),
    retentionWrap: byId("retention-days-wrap"),
    retentionUnit: byId("retention-unit"),
  };
  dialog.addEventListener("change", (e) => {
    if (e.target === f.language || e.target === f.theme) preview({ language: f.language.value, theme: f.theme.value });
  });
}

export function fillGeneral(settings, set) {
  const { store, ui } = settings;
  set(f.startAtLogin, ui.start_at_login);
  set(f.language, ui.language);
  set(f.theme, ui.theme);
  set(f.retentionMode, store.retention_days == null ? "forever" : "days");
  set(f.retentionDays, store.retention_days ?? 90);
}

export function collectGeneral(settings) {
  settings.store.retention_days = f.retentionMode.value === "days" ? readNumber(f.retentionDays) : null;
  settings.ui.language = f.language.value;
  settings.ui.theme = f.theme.value;
  settings.ui.start_at_login = f.startAtLogin.checked;
}

export function syncGeneral() {
  setHidden(f.retentionWrap, f.retentionMode.value !== "days");
  const count = Number(f.retentionDays.value) || 0;
  setText(f.retentionUnit, t("settings.days_unit", { count }));
}

export function renderAbout() {
  const info = state.info;
  if (!info) return;
  setText(byId("about-line"), t("settings.about", { version: info.version, mode: t(`mode.${info.mode}`) }));
}
