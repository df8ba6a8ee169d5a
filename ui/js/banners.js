// Non-blocking messages: the one-time tray hint, the shell's notice, disk write failures and
// short toasts for failed commands. None of them steals focus.

import * as api from "./api.js";
import { byId, setHidden, setText } from "./dom.js";
import { t } from "./i18n/index.js";
import { setBanner, setInfo, state, subscribe } from "./state.js";

const TOAST_MS = 5000;
let toastEl;
let toastTimer = 0;

export function initBanners() {
  toastEl = byId("toast");
  byId("tray-hint-dismiss").addEventListener("click", dismissTrayHint);
  byId("notice-dismiss").addEventListener("click", () => setBanner("notice", null));
  byId("store-error-dismiss").addEventListener("click", () => setBanner("storeError", null));
  subscribe("banners", renderBanners);
  subscribe("info", (s) => {
    const info = s.info;
    if (!info) return;
    const wantsHint = info.tray_available === false && !info.settings?.ui?.tray_hint_shown;
    if (wantsHint !== s.banners.trayHint) setBanner("trayHint", wantsHint);
  });
}

export function renderBanners(s) {
  setHidden(byId("tray-hint"), !s.banners.trayHint);
  setHidden(byId("notice-banner"), !s.banners.notice);
  setText(byId("notice-text"), s.banners.notice || "");
  setHidden(byId("store-error"), !s.banners.storeError);
  setText(byId("store-error-text"), s.banners.storeError || "");
}

async function dismissTrayHint() {
  setBanner("trayHint", false);
  const settings = state.settings;
  if (!settings) return;
  try {
    setInfo(await api.saveSettings({ ...settings, ui: { ...settings.ui, tray_hint_shown: true } }));
  } catch (e) {
    showToast(t("errors.command", { error: e.message }));
  }
}

export function showToast(text) {
  if (!toastEl) return;
  setText(toastEl, text);
  toastEl.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    toastEl.hidden = true;
  }, TOAST_MS);
}
