// The open chat: header, history and live updates. History is paged 50 at a time and only the
// loaded pages are in the DOM; each timeline entry (message, gap, day divider, receipt) is a
// node keyed by what it shows, so a new page or message inserts nodes, it never rebuilds.

import * as api from "./api.js";
import { byId, el, fileName, initials, reconcileChildren, setData, setHidden, setText, toggleClass } from "./dom.js";
import { t } from "./i18n/index.js";
import {
  isMuted, muteUntil, patchChat, setOpenChatId, setSettings, setUnreadTotal, snoozedUntil, sourceKind, state, subscribe, upsertChats,
} from "./state.js";
import { dateTime, dayKey, dayLabel, fullDateTime, parseTime, timeOfDay, timeOrDate, timeRange } from "./time.js";
import { showToast } from "./banners.js";

const PAGE = 50;
const LOAD_OLDER_MARGIN = 320; // px from the top at which the previous page is asked for
const BOTTOM_SLACK = 48; // px: closer than this to the bottom counts as "at the bottom"
const HIGHLIGHT_MS = 2600;

let appEl, emptyEl, convEl, scrollEl, listEl, pillEl, announcerEl;
let titleEl, avatarEl, usernameEl, sourceEl, presenceEl, typingEl, mutedEl;
let muteButton, muteLabel, muteMenu;
let snoozeButton, snoozeLabel, snoozeStatus, webPanelButton, webPanelShortcut;
let snoozeBusy = false;
let webPanelBusy = false;

const nodes = new Map(); // entry key -> node, for the open chat only
let openToken = 0;

/* ---- timeline state (lives in state.timeline) ---- */

function newTimeline(userId, { detached }) {
  return {
    userId,
    items: [],
    seqs: new Set(),
    gapKeys: new Set(),
    nextBefore: null,
    peerReadUpTo: null,
    // false after jumping to an old message: newer messages are not loaded, so live ones are
    // not appended (they would leave a hole); the pill offers the latest instead.
    atLatest: !detached,
    loading: true,
    loadingOlder: false,
    error: null,
    queued: [],
    unseen: 0,
  };
}

// Keyed by millisecond: a live gap's `to` carries the engine's full precision, the same gap read
// back from the store has milliseconds only, and both must be one timeline entry.
const gapMs = (iso) => {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : ms;
};
const gapKey = (g) => `gap:${gapMs(g.from)}:${gapMs(g.to)}`;

function addItems(tl, items, where) {
  const fresh = [];
  for (const item of items) {
    if (item.type === "gap") {
      const key = gapKey(item);
      if (tl.gapKeys.has(key)) continue;
      tl.gapKeys.add(key);
    } else {
      if (tl.seqs.has(item.seq)) continue;
      tl.seqs.add(item.seq);
    }
    fresh.push(item);
  }
  tl.items = where === "start" ? [...fresh, ...tl.items] : [...tl.items, ...fresh];
  return fresh;
}

/* ---- init ---- */

export function initChatView() {
  appEl = byId("app");
  emptyEl = byId("chat-empty");
  convEl = byId("conversation");
  scrollEl = byId("timeline-scroll");
  listEl = byId("timeline");
  pillEl = byId("new-messages-pill");
  announcerEl = byId("chat-announcer");
  titleEl = byId("chat-title");
  avatarEl = byId("chat-avatar");
  usernameEl = byId("chat-username");
  sourceEl = byId("chat-source");
  presenceEl = byId("chat-presence");
  typingEl = byId("chat-typing");
  mutedEl = byId("chat-muted");
  muteButton = byId("mute-button");
  muteLabel = byId("mute-button-label");
  muteMenu = byId("mute-menu");
  snoozeButton = byId("snooze-button");
  snoozeLabel = byId("snooze-button-label");
  snoozeStatus = byId("snooze-status");
  webPanelButton = byId("web-panel-button");
  webPanelShortcut = byId("shortcut-web-panel");

  byId("back-button").addEventListener("click", () => closeChat({ focusList: true }));
  byId("close-chat").addEventListener("click", () => closeChat({ focusList: true }));
  scrollEl.addEventListener("scroll", onScroll, { passive: true });
  pillEl.addEventListener("click", onPill);
  initMuteMenu();
  snoozeButton.addEventListener("click", toggleSnooze);
  webPanelButton.addEventListener("click", () => replyInWebPanel());

  // The shell only knows the window is focused; re-reading on return catches messages that
  // arrived while the agent was away with this chat open.
  document.addEventListener("visibilitychange", markReadIfUnread);
  window.addEventListener("focus", markReadIfUnread);

  subscribe("chats", (s, details) => {
    const all = details.includes("all");
    if (s.openChatId != null && (all || details.flat().includes(s.openChatId))) {
      renderHeader(s);
      syncReceiptFromSummary(s);
    }
  });
  subscribe("mutes", renderHeader);
  subscribe("settings", renderHeader);
  subscribe("waits", renderHeader); // a snooze ran out
  subscribe("lang", () => {
    renderHeader(state);
    rebuildTimeline();
  });
  subscribe("clock", rebuildTimeline);
}

/* ---- open / close ---- */

/**
 * Opens a chat. With `focusSeq`, the page is the one ending at that message (before = seq + 1),
 * which is scrolled into view and highlighted.
 */
export async function openChat(userId, { focusSeq = null, focusTimeline = false } = {}) {
  if (userId == null) return;
  closeMuteMenu();
  const current = state.timeline;
  if (state.openChatId === userId && focusSeq == null && current && !current.error && current.atLatest) {
    appEl.dataset.view = "chat";
    if (focusTimeline) scrollEl.focus({ preventScroll: true });
    api.markRead(userId).then(afterMarkRead(userId), () => {});
    return;
  }
  const token = ++openToken;
  const tl = newTimeline(userId, { detached: focusSeq != null });
  state.timeline = tl;
  nodes.clear();
  listEl.replaceChildren();
  hidePill();
  setOpenChatId(userId);
  appEl.dataset.view = "chat";
  renderHeader(state);
  renderTimeline("open");
  api.setOpenChat(userId).catch((e) => showToast(t("errors.command", { error: e.message })));
  api.markRead(userId).then(afterMarkRead(userId), () => {});

  try {
    if (!state.chats.has(userId)) {
      const summary = await api.getChat(userId);
      if (token !== openToken) return;
      if (!summary) {
        showToast(t("chat.not_found"));
        closeChat();
        return;
      }
      upsertChats([summary]);
    }
    const page = await api.chatHistory(userId, focusSeq != null ? focusSeq + 1 : null, PAGE);
    if (token !== openToken) return;
    addItems(tl, page.items, "end");
    tl.nextBefore = page.next_before;
    tl.peerReadUpTo = page.peer_read_up_to;
    if (focusSeq != null) {
      const last = state.chats.get(userId)?.last_message;
      tl.atLatest = !last || last.seq <= focusSeq;
    }
    tl.loading = false;
    const queued = tl.queued;
    tl.queued = [];
    if (tl.atLatest) addItems(tl, queued.filter((m) => m.seq > maxSeq(tl)).map(asItem), "end");
    renderTimeline("open");
    if (focusSeq != null) revealMessage(focusSeq);
    else scrollToBottom();
    if (!tl.atLatest) showPill(t("chat.jump_latest"));
    if (focusTimeline) scrollEl.focus({ preventScroll: true });
    fillViewport();
  } catch (e) {
    if (token !== openToken) return;
    tl.loading = false;
    tl.error = e.message;
    renderTimeline("open");
  }
}

function afterMarkRead(userId) {
  return (total) => {
    patchChat(userId, { unread: 0, waiting_since: null });
    setUnreadTotal(total);
  };
}

export function closeChat({ focusList = false } = {}) {
  const wasOpen = state.openChatId;
  openToken++;
  closeMuteMenu();
  state.timeline = null;
  nodes.clear();
  listEl.replaceChildren();
  hidePill();
  appEl.dataset.view = "list";
  if (wasOpen != null) {
    setOpenChatId(null);
    api.setOpenChat(null).catch(() => {});
  }
  renderHeader(state);
  renderTimeline("close");
  if (focusList && wasOpen != null) {
    const row = document.querySelector(`#chat-list li[data-chat-id="${CSS.escape(String(wasOpen))}"]`);
    if (row) row.focus();
  }
}

/** Resync: the latest page again, keeping the reader at the bottom if they were there. */
export async function reloadOpenChat() {
  const tl = state.timeline;
  if (!tl) return;
  const wasAtBottom = isAtBottom();
  const token = ++openToken;
  try {
    const [summary, page] = await Promise.all([api.getChat(tl.userId), api.chatHistory(tl.userId, null, PAGE)]);
    if (token !== openToken || state.timeline !== tl) return;
    if (!summary) {
      closeChat();
      return;
    }
    upsertChats([summary]);
    const fresh = newTimeline(tl.userId, { detached: false });
    addItems(fresh, page.items, "end");
    fresh.nextBefore = page.next_before;
    fresh.peerReadUpTo = page.peer_read_up_to;
    fresh.loading = false;
    state.timeline = fresh;
    renderTimeline("reload");
    if (wasAtBottom || !tl.atLatest) scrollToBottom();
    hidePill();
  } catch (e) {
    showToast(t("errors.command", { error: e.message }));
  }
}

/* ---- live updates ---- */

const asItem = (m) => ({ type: "message", ...m });
const maxSeq = (tl) => {
  for (let i = tl.items.length - 1; i >= 0; i--) if (tl.items[i].type === "message") return tl.items[i].seq;
  return -1;
};

/** chatbell:stored — messages are the open chat's only, but the chat may have changed since. */
export function applyStored(messages, gap) {
  const tl = state.timeline;
  if (!tl) return;
  const mine = (messages || []).filter((m) => m.user_id === tl.userId);
  if (tl.loading) {
    tl.queued.push(...mine);
    return;
  }
  const fresh = mine.filter((m) => !tl.seqs.has(m.seq));
  if (!tl.atLatest) {
    if (fresh.length) {
      tl.unseen += fresh.length;
      showPill(t("chat.new_messages", { count: tl.unseen }));
      announce(fresh);
    }
    return;
  }
  const wasAtBottom = isAtBottom();
  const items = [];
  if (gap) items.push({ type: "gap", from: gap.from, to: gap.to });
  items.push(...fresh.map(asItem));
  const added = addItems(tl, items, "end");
  if (!added.length) return;
  renderTimeline("append");
  const addedMessages = added.filter((i) => i.type === "message");
  if (wasAtBottom) {
    scrollToBottom();
  } else if (addedMessages.length) {
    tl.unseen += addedMessages.length;
    showPill(t("chat.new_messages", { count: tl.unseen }));
  }
  announce(addedMessages);
}

function announce(messages) {
  if (!messages.length) return;
  const chat = state.chats.get(state.openChatId);
  const name = chat ? chat.name : "";
  const last = messages[messages.length - 1];
  const text = last.text || (last.file_path ? `${fileName(last.file_path)} ${t("message.attachment_sr")}` : "");
  setText(announcerEl, messages.length === 1
    ? t("chat.announce_one", { name, text })
    : t("chat.announce_many", { name, count: messages.length }));
}

function syncReceiptFromSummary(s) {
  const tl = s.timeline;
  const chat = s.chats.get(s.openChatId);
  if (!tl || !chat || tl.loading) return;
  if (chat.peer_read_up_to !== tl.peerReadUpTo) {
    tl.peerReadUpTo = chat.peer_read_up_to;
    renderTimeline("receipt");
  }
}

function markReadIfUnread(event) {
  if (document.visibilityState !== "visible") return;
  // Visible is not enough (a window can be shown behind others); focus means the agent is here.
  if (event && event.type === "visibilitychange" && !document.hasFocus()) return;
  const id = state.openChatId;
  if (id == null) return;
  const chat = state.chats.get(id);
  if (chat && chat.unread > 0) api.markRead(id).then(afterMarkRead(id), () => {});
}

/* ---- header ---- */

function renderHeader(s) {
  const id = s.openChatId;
  const webPanel = webPanelConfigured(s);
  setHidden(webPanelShortcut, !webPanel);
  setHidden(emptyEl, id != null);
  setHidden(convEl, id == null);
  if (id == null) return;
  setHidden(webPanelButton, !webPanel);
  const chat = s.chats.get(id);
  const name = chat ? chat.name : `#${id}`;
  setText(titleEl, name);
  setText(avatarEl, initials(name));
  setData(avatarEl, "tone", Math.abs(id) % 8);
  setText(usernameEl, chat && chat.username ? `@${chat.username}` : "");
  setHidden(usernameEl, !(chat && chat.username));
  const kind = chat ? sourceKind(chat) : id < 0 ? "widget" : "telegram";
  setText(sourceEl, kind === "other" ? chat.source : t(`source.${kind}`));

  const typing = Boolean(chat && chat.typing);
  setHidden(typingEl, !typing);
  setText(typingEl, t("typing.long"));
  const online = chat ? chat.online : null;
  setHidden(presenceEl, typing || online == null);
  setText(presenceEl, online == null ? "" : t(online ? "presence.online" : "presence.offline"));
  toggleClass(presenceEl, "is-online", online === true);

  const muted = isMuted(id);
  setHidden(mutedEl, !muted);
  if (muted) {
    const until = muteUntil(id);
    setText(mutedEl, until == null ? t("mute.muted_forever") : t("mute.muted_until", { time: formatMuteEnd(parseTime(until)) }));
  }
  setText(muteLabel, t(muted ? "mute.unmute" : "mute.button"));
  muteButton.setAttribute("aria-haspopup", muted ? "false" : "menu");
  toggleClass(muteButton, "is-active", muted);
  const items = muteMenu.querySelectorAll("[data-minutes]");
  for (const item of items) {
    const minutes = item.dataset.minutes;
    if (minutes !== "forever") setText(item, t("mute.for_hours", { count: Number(minutes) / 60 }));
  }

  const until = snoozedUntil(chat);
  const untilText = until == null ? "" : timeOrDate(new Date(until));
  setHidden(snoozeStatus, until == null);
  setText(snoozeStatus, until == null ? "" : t("snooze.until", { time: untilText }));
  setText(snoozeLabel, t(until == null ? "snooze.button" : "snooze.unsnooze"));
  const minutes = s.settings?.notifications?.snooze_minutes;
  snoozeButton.title = until != null ? t("snooze.unsnooze_title", { time: untilText }) : minutes ? t("snooze.button_title", { count: minutes }) : "";
  toggleClass(snoozeButton, "is-active", until != null);
}

/* ---- snooze and the web panel ---- */

function webPanelConfigured(s = state) {
  const template = s.settings?.server?.web_panel;
  return typeof template === "string" && template.trim() !== "";
}

/** Snoozes the open chat for the settings' default, or brings a snoozed one back. */
async function toggleSnooze() {
  const id = state.openChatId;
  if (id == null || snoozeBusy) return;
  snoozeBusy = true;
  try {
    if (snoozedUntil(state.chats.get(id)) != null) {
      await api.unsnoozeChat(id);
      patchChat(id, { snoozed_until: null });
    } else {
      const result = await api.snoozeChat(id, null);
      patchChat(id, { snoozed_until: result ? result.until : null });
    }
  } catch (e) {
    showToast(t("errors.command", { error: e.message }));
  } finally {
    snoozeBusy = false;
  }
}

/**
 * Opens the chat in the service's web panel (the shell fills the template and starts the
 * browser). The button and Ctrl+Shift+O both come here; a second press while the first is on
 * its way does not open a second tab.
 */
export async function replyInWebPanel(userId = state.openChatId) {
  if (userId == null || webPanelBusy) return;
  if (!webPanelConfigured()) {
    showToast(t("web_panel.not_configured"));
    return;
  }
  webPanelBusy = true;
  webPanelButton.setAttribute("aria-busy", "true");
  try {
    await api.openWebPanel(userId);
  } catch (e) {
    showToast(t("errors.command", { error: e.message }));
  } finally {
    webPanelBusy = false;
    webPanelButton.removeAttribute("aria-busy");
  }
}

export function formatMuteEnd(d) {
  if (!d) return "";
  const today = new Date();
  return d.toDateString() === today.toDateString() ? timeOfDay(d) : dateTime(d);
}

/* ---- mute menu ---- */

function initMuteMenu() {
  muteButton.addEventListener("click", () => {
    const id = state.openChatId;
    if (id == null) return;
    if (isMuted(id)) {
      api.unmuteChat(id).then(setSettings, (e) => showToast(t("errors.command", { error: e.message })));
      return;
    }
    if (muteMenu.hidden) openMuteMenu();
    else closeMuteMenu();
  });
  muteMenu.addEventListener("click", (e) => {
    const item = e.target.closest("[data-minutes]");
    if (!item) return;
    const id = state.openChatId;
    const minutes = item.dataset.minutes === "forever" ? null : Number(item.dataset.minutes);
    closeMuteMenu();
    muteButton.focus();
    if (id == null) return;
    api.muteChat(id, minutes).then(setSettings, (e2) => showToast(t("errors.command", { error: e2.message })));
  });
  muteMenu.addEventListener("keydown", (e) => {
    const items = [...muteMenu.querySelectorAll("[role=menuitem]")];
    const index = items.indexOf(document.activeElement);
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const next = (index + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
      items[next].focus();
    } else if (e.key === "Home" || e.key === "End") {
      e.preventDefault();
      items[e.key === "Home" ? 0 : items.length - 1].focus();
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      closeMuteMenu();
      muteButton.focus();
    } else if (e.key === "Tab") {
      closeMuteMenu();
    }
  });
  document.addEventListener("pointerdown", (e) => {
    if (!muteMenu.hidden && !e.target.closest(".menu-anchor")) closeMuteMenu();
  });
}

function openMuteMenu() {
  muteMenu.hidden = false;
  muteButton.setAttribute("aria-expanded", "true");
  muteMenu.querySelector("[role=menuitem]").focus();
}

export function closeMuteMenu() {
  if (!muteMenu || muteMenu.hidden) return false;
  muteMenu.hidden = true;
  muteButton.setAttribute("aria-expanded", "false");
  return true;
}

/* ---- timeline rendering ---- */

/** Where "Seen up to here" goes: after the newest loaded message the peer has read. */
function receiptAfter(tl) {
  if (tl.peerReadUpTo == null) return null;
  for (let i = tl.items.length - 1; i >= 0; i--) {
    const item = tl.items[i];
    if (item.type !== "message") continue;
    // The first message of a chat has no id; it precedes everything the peer can have read.
    if ((item.message_id ?? Number.NEGATIVE_INFINITY) <= tl.peerReadUpTo) return item.seq;
  }
  return null;
}

function entries(tl) {
  const out = [];
  if (tl.loading) {
    out.push({ key: "loading", kind: "loading" });
    return out;
  }
  if (tl.error) {
    out.push({ key: `error:${tl.error}`, kind: "error", error: tl.error });
    return out;
  }
  if (tl.nextBefore == null) out.push({ key: "start", kind: "start" });
  else if (tl.loadingOlder) out.push({ key: "loading-older", kind: "loading" });
  if (tl.items.length === 0) {
    out.push({ key: "no-messages", kind: "no-messages" });
    return out;
  }
  const receipt = receiptAfter(tl);
  let previousDay = null;
  for (const item of tl.items) {
    if (item.type === "gap") {
      out.push({ key: gapKey(item), kind: "gap", item });
      continue;
    }
    const sent = parseTime(item.sent_at);
    const day = sent ? dayKey(sent) : previousDay;
    if (day !== previousDay) {
      out.push({ key: `day:${item.seq}:${day}`, kind: "day", date: sent });
      previousDay = day;
    }
    out.push({ key: `m:${item.seq}`, kind: "message", item, sent });
    if (item.seq === receipt) out.push({ key: `receipt:${item.seq}`, kind: "receipt" });
  }
  return out;
}

function buildNode(entry) {
  switch (entry.kind) {
    case "message":
      return buildMessage(entry.item, entry.sent);
    case "gap": {
      const range = timeRange(parseTime(entry.item.from), parseTime(entry.item.to));
      return el("li", { class: "gap", attrs: { role: "note" } }, [
        el("span", { class: "icon icon-warning", attrs: { "aria-hidden": "true" } }),
        el("span", { text: t("chat.gap", { range }) }),
      ]);
    }
    case "day":
      return el("li", { class: "day-divider", attrs: { role: "separator" } }, [el("span", { text: entry.date ? dayLabel(entry.date) : "" })]);
    case "receipt":
      return el("li", { class: "receipt" }, [
        el("span", { class: "icon icon-check", attrs: { "aria-hidden": "true" } }),
        el("span", { text: t("chat.receipt") }),
      ]);
    case "start": {
      const chat = state.chats.get(state.openChatId);
      return el("li", { class: "timeline-start" }, [
        el("span", { text: t("chat.start", { name: chat ? chat.name : "" }) }),
      ]);
    }
    case "loading":
      return el("li", { class: "timeline-loading" }, [
        el("span", { class: "spinner", attrs: { "aria-hidden": "true" } }),
        el("span", { text: t("chat.loading") }),
      ]);
    case "no-messages":
      return el("li", { class: "timeline-start", text: t("chat.no_messages") });
    case "error":
      return el("li", { class: "timeline-error", attrs: { role: "alert" } }, [
        el("span", { text: t("chat.load_failed", { error: entry.error }) }),
        el("button", { class: "btn btn-small", text: t("common.retry"), attrs: { type: "button" }, on: { click: retryOpen } }),
      ]);
    default:
      return el("li");
  }
}

function retryOpen() {
  const id = state.openChatId;
  if (id == null) return;
  state.timeline = null;
  openChat(id);
}

function buildMessage(m, sent) {
  const children = [];
  if (m.message_id == null) children.push(el("span", { class: "first-label", text: t("message.started_chat") }));
  if (m.text != null && m.text !== "") {
    children.push(el("p", { class: "message-text", dir: "auto", text: m.text }));
  }
  if (m.file_path) {
    const name = fileName(m.file_path);
    children.push(
      el("span", { class: "attachment", attrs: { title: m.file_path } }, [
        // An SVG, not the 📎 emoji: without an emoji font that is an empty box.
        el("span", { class: "icon icon-paperclip", attrs: { "aria-hidden": "true" } }),
        el("bdi", { class: "attachment-name", dir: "auto", text: name }),
        el("span", { class: "visually-hidden", text: t("message.attachment_sr") }),
      ]),
    );
  }
  if ((m.text == null || m.text === "") && !m.file_path) {
    children.push(el("p", { class: "message-text is-empty", text: t("message.empty") }));
  }
  const meta = [];
  if (m.sent_at_quality && m.sent_at_quality !== "given") {
    meta.push(el("span", { class: "approx", text: "≈", attrs: { title: t("message.approx"), "aria-label": t("message.approx") } }));
  }
  meta.push(el("time", { class: "message-time", text: timeOfDay(sent), attrs: { datetime: m.sent_at, title: fullDateTime(sent) } }));
  children.push(el("span", { class: "message-meta" }, meta));
  return el("li", { class: ["message", m.message_id == null && "is-first"], data: { seq: m.seq } }, [
    el("div", { class: "bubble" }, children),
  ]);
}

/**
 * One render path for the timeline. Scroll is kept where the reader is: pinned to the bottom
 * if they were there, else the first visible entry stays put (WebKit has no scroll anchoring).
 */
function renderTimeline(reason) {
  const tl = state.timeline;
  if (!tl) {
    nodes.clear();
    listEl.replaceChildren();
    return;
  }
  const list = entries(tl);
  const wanted = new Set(list.map((e) => e.key));
  for (const key of nodes.keys()) if (!wanted.has(key)) nodes.delete(key);
  const ordered = list.map((entry) => {
    let node = nodes.get(entry.key);
    if (!node) {
      node = buildNode(entry);
      node.dataset.key = entry.key;
      nodes.set(entry.key, node);
    }
    return node;
  });

  const pinned = reason !== "open" && isAtBottom();
  const anchor = pinned || reason === "open" ? null : firstVisible();
  const anchorTop = anchor ? anchor.offsetTop - scrollEl.scrollTop : 0;
  reconcileChildren(listEl, ordered);
  setData(listEl, "state", tl.loading ? "loading" : tl.error ? "error" : "ready");
  if (pinned) scrollToBottom();
  else if (anchor && anchor.isConnected) scrollEl.scrollTop = anchor.offsetTop - anchorTop;
}

function rebuildTimeline() {
  if (!state.timeline) return;
  nodes.clear();
  listEl.replaceChildren();
  renderTimeline("rebuild");
}

/**
 * The first message or gap in view: the entry to hold still. Spinners, dividers and the
 * receipt come and go as pages load, so they cannot serve as anchors.
 */
function firstVisible() {
  const children = listEl.children;
  const top = scrollEl.scrollTop;
  let lo = 0;
  let hi = children.length - 1;
  let index = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const child = children[mid];
    if (child.offsetTop + child.offsetHeight > top) {
      index = mid;
      hi = mid - 1;
    } else {
      lo = mid + 1;
    }
  }
  if (index < 0) return null;
  for (let i = index; i < children.length; i++) {
    const key = children[i].dataset.key || "";
    if (key.startsWith("m:") || key.startsWith("gap:")) return children[i];
  }
  return null;
}

function isAtBottom() {
  return scrollEl.scrollHeight - scrollEl.scrollTop - scrollEl.clientHeight <= BOTTOM_SLACK;
}

function scrollToBottom() {
  scrollEl.scrollTop = scrollEl.scrollHeight;
}

function revealMessage(seq) {
  const node = nodes.get(`m:${seq}`);
  if (!node) return;
  node.scrollIntoView({ block: "center" });
  node.classList.remove("is-highlighted");
  // Restart the animation if the same message is revealed twice in a row.
  void node.offsetWidth;
  node.classList.add("is-highlighted");
  setTimeout(() => node.classList.remove("is-highlighted"), HIGHLIGHT_MS);
}

/** Jumps inside the open chat when the message is loaded; otherwise reopens on its page. */
export function showMessage(userId, seq) {
  const tl = state.timeline;
  if (tl && tl.userId === userId && tl.seqs.has(seq) && !tl.loading) {
    appEl.dataset.view = "chat";
    revealMessage(seq);
    return;
  }
  openChat(userId, { focusSeq: seq });
}

async function loadOlder() {
  const tl = state.timeline;
  if (!tl || tl.loading || tl.loadingOlder || tl.nextBefore == null || tl.error) return;
  tl.loadingOlder = true;
  renderTimeline("older");
  try {
    const page = await api.chatHistory(tl.userId, tl.nextBefore, PAGE);
    if (state.timeline !== tl) return;
    addItems(tl, page.items, "start");
    tl.nextBefore = page.next_before;
    if (page.peer_read_up_to != null) tl.peerReadUpTo = page.peer_read_up_to;
  } catch (e) {
    showToast(t("chat.load_failed", { error: e.message }));
  } finally {
    if (state.timeline === tl) {
      tl.loadingOlder = false;
      renderTimeline("older");
    }
  }
  fillViewport();
}

/** Short histories on a tall window leave no scrollbar to scroll up with: load until there is one. */
function fillViewport() {
  requestAnimationFrame(() => {
    const tl = state.timeline;
    if (tl && !tl.loading && tl.nextBefore != null && scrollEl.scrollHeight <= scrollEl.clientHeight + LOAD_OLDER_MARGIN) loadOlder();
  });
}

function onScroll() {
  if (scrollEl.scrollTop < LOAD_OLDER_MARGIN) loadOlder();
  const tl = state.timeline;
  if (tl && tl.atLatest && isAtBottom() && !pillEl.hidden) {
    tl.unseen = 0;
    hidePill();
  }
}

function onPill() {
  const tl = state.timeline;
  if (!tl) return;
  if (tl.atLatest) {
    scrollEl.scrollTo({ top: scrollEl.scrollHeight, behavior: "smooth" });
    tl.unseen = 0;
    hidePill();
  } else {
    reloadOpenChat();
  }
}

function showPill(text) {
  setText(pillEl, `${text} ↓`);
  pillEl.hidden = false;
}

function hidePill() {
  pillEl.hidden = true;
}

