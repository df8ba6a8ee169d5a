// Bootstrap: views first (so every later state change has somewhere to render), then the
// shell's events (so nothing that happens during the first load is missed), then the first
// load. `body[data-ready]` tells tests that all three are done.

import * as api from "./api.js";
import { byId, setText } from "./dom.js";
import { resolveLanguage, setLanguage, t } from "./i18n/index.js";
import {
  nextMuteExpiry, notify, patchChat, setBanner, setConnection, setInfo, setOrganization, setSettings, setUnreadTotal, setWaiting, state, subscribe,
  upsertChats,
} from "./state.js";
import { msToMidnight } from "./time.js";
import { adjacentChatId, focusChatRow, initChatList, loadMoreChats, reloadChats } from "./chat-list.js";
import { applyStored, closeChat, closeMuteMenu, initChatView, openChat, reloadOpenChat, replyInWebPanel, showMessage } from "./chat-view.js";
import { clearSearch, focusSearch, initSearch, isSearchActive, moveResult } from "./search.js";
import { initStatusBar } from "./status-bar.js";
import { closeSettings, initSettings, isSettingsOpen, openServerSettings, openSettings } from "./settings.js";
import { initWelcome, isWelcomeOpen } from "./welcome.js";
import { initKeyboard, isNarrow } from "./keyboard.js";
import { initBanners, setStoreProblem, showToast } from "./banners.js";

/* ---- appearance ---- */

function applyUi(ui) {
  if (!ui) return;
  const language = resolveLanguage(ui.language);
  if (language !== state.language) {
    state.language = language;
    setLanguage(language);
    notify("lang");
  }
  const theme = ui.theme === "light" || ui.theme === "dark" ? ui.theme : "system";
  if (document.documentElement.dataset.theme !== theme) document.documentElement.dataset.theme = theme;
}

/** "(2) Chatbell": unread messages in front. The window's own title (the shell's) says who waits. */
function renderTitle(s) {
  const n = s.unreadTotal;
  const title = n > 0 ? `(${n}) Chatbell` : "Chatbell";
  if (document.title !== title) document.title = title;
}

/* ---- timers: mutes that run out, and "today" that becomes "yesterday" ---- */

let muteTimer = 0;
function scheduleMuteExpiry() {
  clearTimeout(muteTimer);
  const next = nextMuteExpiry();
  if (next == null) return;
  // setTimeout's limit is ~24.8 days; re-check then if the mute is longer.
  const delay = Math.min(next - Date.now() + 500, 2 ** 31 - 1);
  muteTimer = setTimeout(() => {
    notify("mutes");
    scheduleMuteExpiry();
  }, Math.max(delay, 1000));
}

function scheduleMidnight() {
  setTimeout(() => {
    notify("clock");
    scheduleMidnight();
  }, msToMidnight());
}

/* ---- shell interactions ---- */

async function refreshInfo() {
  const info = await api.appInfo();
  setInfo(info);
  if (info.pending_open_chat != null) openChat(info.pending_open_chat, { focusTimeline: true });
  if (info.pending_settings) openSettingsSection(info.pending_settings);
  return info;
}

/** The demo and a real server keep separate databases: after a switch everything reloads. */
async function afterModeChange() {
  closeChat();
  clearSearch();
  state.chats.clear();
  state.chatsExhausted = false;
  await reloadChats();
}

async function startDemo() {
  try {
    setInfo(await api.startDemo());
    setStoreProblem(null);
  } catch (e) {
    // The demo's own database could not be used: the banner says why, and "Try again" retries.
    if (e.kind === "store") setStoreProblem(e);
    else showToast(t("errors.command", { error: e.message }));
  }
}

/**
 * No session runs because it could not start: every command answers with why. A store error
 * gets the banner with its reason and "Try again"; nothing is connected meanwhile.
 */
function showStartFailure(e) {
  if (e.kind !== "store") return false;
  setStoreProblem(e);
  setConnection({ state: "stopped" });
  return true;
}

/** "Try again" on the store problem: the shell starts the session again, then all reloads. */
async function retryStart() {
  let info;
  try {
    info = await api.retryStart();
  } catch (e) {
    if (e.kind === "store") {
      setStoreProblem(e);
      showToast(t("store_problem.retry_failed"));
    } else {
      showToast(t("errors.command", { error: e.message }));
    }
    return;
  }
  setStoreProblem(null);
  const before = state.info ? state.info.mode : null;
  setInfo(info);
  applyUi(info.settings.ui);
  if (info.notice) setBanner("notice", info.notice);
  // setInfo reloads after a change of mode; a start that failed had no mode to change from.
  if (before === null || before === info.mode) await afterModeChange();
}

/**
 * The shell asks for a part of Settings (the "token refused" notification's button): "server"
 * is Connection, at the address or the token. Before the first load there is no form to fill:
 * the request waits for it.
 */
let pendingSettings = null;
function openSettingsSection(section) {
  if (!state.settings) {
    pendingSettings = section ?? "server";
    return;
  }
  pendingSettings = null;
  if (section === "server" || section == null) openServerSettings();
  else openSettings();
}

function showListFromNotification() {
  if (isNarrow()) closeChat({ focusList: true });
  else focusChatRow("current");
}

function registerListeners() {
  const E = api.EVENTS;
  return Promise.all([
    api.on(E.connection, (conn) => setConnection(conn)),
    api.on(E.stored, (p) => {
      if (!p) return;
      upsertChats(p.chats || []);
      if (typeof p.unread_total === "number") setUnreadTotal(p.unread_total);
      applyStored(p.messages || [], p.gap || null);
    }),
    api.on(E.typing, (p) => {
      if (p && state.chats.has(p.user_id)) patchChat(p.user_id, { typing: Boolean(p.typing) });
    }),
    api.on(E.chatRead, (p) => {
      if (!p) return;
      patchChat(p.user_id, { unread: 0, waiting_since: null });
      setUnreadTotal(p.unread_total);
    }),
    api.on(E.openChat, (p) => {
      const id = p ? p.user_id : null;
      closeSettings();
      if (id == null) showListFromNotification();
      else openChat(id, { focusTimeline: true });
    }),
    api.on(E.settings, (settings) => {
      setSettings(settings);
      // An open settings dialog may be previewing a language/theme draft: keep it until Save/Cancel.
      if (settings && !isSettingsOpen()) applyUi(settings.ui);
    }),
    api.on(E.resync, () => {
      reloadChats();
      reloadOpenChat();
      refreshInfo().catch(showStartFailure);
    }),
    api.on(E.storeFailed, (p) => setBanner("storeError", (p && p.error) || t("store_error.unknown"))),
    api.on(E.waiting, (summary) => setWaiting(summary)),
    api.on(E.snoozed, (p) => {
      if (p && state.chats.has(p.user_id)) patchChat(p.user_id, { snoozed_until: p.until ?? null });
    }),
    api.on(E.openSettings, (p) => openSettingsSection(p ? p.section : null)),
    // The window's background service went away and is being restarted (a resync follows).
    api.on(E.service, (p) => setBanner("serviceLost", !(p && p.running))),
    api.on(E.organization, (p) => setOrganization(p)),
  ]);
}

function showFatal(message) {
  const app = byId("app");
  const box = document.createElement("div");
  box.className = "fatal";
  const title = document.createElement("h1");
  title.textContent = t("fatal.title");
  const text = document.createElement("p");
  text.textContent = message;
  box.append(title, text);
  app.replaceChildren(box);
}

/* ---- start ---- */

/**
 * The page's own part of opening the window, told once: DOMContentLoaded and the first frame
 * with the chat list, in ms after the navigation started. A requestAnimationFrame callback
 * runs before that frame is painted; a task queued from it runs after.
 */
function reportPainted() {
  requestAnimationFrame(() => setTimeout(() => {
    const painted = performance.now();
    const [navigation] = performance.getEntriesByType("navigation");
    if (navigation) api.pagePainted(navigation.domContentLoadedEventStart, painted).catch(() => {});
  }, 0));
}

async function main() {
  state.language = resolveLanguage("system");
  setLanguage(state.language);
  document.documentElement.dataset.theme = "system";

  if (!api.isAvailable()) {
    showFatal(t("fatal.no_bridge"));
    document.body.dataset.ready = "true";
    return;
  }

  initBanners({ retryStart });
  // The status bar's "Set up", "Open settings" and "Enter the proxy password" want the
  // server's fields (at the one the failure names).
  initStatusBar({ openSettings: (tab, field) => (tab === "connection" ? openServerSettings(field) : openSettings(tab)), startDemo });
  initChatList({ openChat });
  initChatView();
  initSearch({ openChat, showMessage });
  initSettings({ applyUi, refreshInfo });
  initWelcome();
  initKeyboard({
    openChat, closeChat, openSettings, isSettingsOpen, focusSearch, clearSearch, isSearchActive, moveResult,
    focusChatRow, adjacentChatId, closeMuteMenu, isWelcomeOpen, replyInWebPanel,
  });

  subscribe("unread", renderTitle);
  subscribe("settings", (s) => {
    scheduleMuteExpiry();
    notify("mutes");
    if (!isSettingsOpen()) applyUi(s.settings?.ui);
  });
  subscribe("info", (s, details) => {
    if (details.some((d) => d && d.modeChanged)) afterModeChange();
  });
  scheduleMidnight();

  try {
    await registerListeners();
  } catch (e) {
    setBanner("notice", t("errors.listen", { error: e.message }));
  }

  let info = null;
  try {
    info = await api.appInfo();
    setInfo(info);
    applyUi(info.settings.ui);
    if (info.notice) setBanner("notice", info.notice);
  } catch (e) {
    if (!showStartFailure(e)) setBanner("notice", t("errors.app_info", { error: e.message }));
  }

  await loadMoreChats();
  renderTitle(state);
  document.body.dataset.ready = "true";
  notify("chats", []);
  notify("info", {});
  reportPainted();

  if (info && info.pending_open_chat != null) openChat(info.pending_open_chat, { focusTimeline: true });
  const section = pendingSettings ?? (info && info.pending_settings);
  if (section) openSettingsSection(section);
}

main().catch((e) => {
  console.error(e);
  setText(document.getElementById("status-text"), String(e && e.message ? e.message : e));
  document.body.dataset.ready = "true";
});
