// The chat list: one <li> per chat, keyed by data-chat-id and updated in place. An event that
// touches three chats rewrites three rows and moves at most those three; the other thousand
// rows are not read or written.
//
// "waiting 3 min" grows with the clock, not with events: one timer, set for the next minute of
// the longest wait (or the end of the next snooze), and none at all while nobody waits.

import * as api from "./api.js";
import { byId, el, fileName, initials, reconcileChildren, setData, setHidden, setText, toggleClass } from "./dom.js";
import { t } from "./i18n/index.js";
import {
  chatOrder, comparatorFor, isMuted, notify, replaceChats, snoozedUntil, sourceKind, state, subscribe, upsertChats, waitingSince,
} from "./state.js";
import { duration, listTime, parseTime, timeOrDate } from "./time.js";
import { isNarrow } from "./keyboard.js";
import { storeProblemWords } from "./banners.js";

export const PAGE_SIZE = 200;
const RELOAD_PAGE = 500; // list_chats' own upper bound
const LOAD_MORE_MARGIN = 800; // px from the bottom at which the next page is asked for
const TICK_SLACK_MS = 250; // past the minute, so the label surely rounds down to the new one
const MAX_TIMEOUT_MS = 2 ** 31 - 1; // setTimeout's limit

let listEl;
let scrollEl;
let footerEl;
let emptyEl;
let emptyHintEl;
let onOpen = () => {};

const rows = new Map(); // user_id -> row refs
let order = []; // user_ids as rendered
let loadedOrder = null; // the order the loaded pages were asked in ("activity" | "waiting")

let waitTimer = 0;
let waitTimerAt = null; // ms at which waitTimer fires
const clockRows = new Set(); // user_ids whose label moves with the clock (waiting or snoozed)

export function initChatList({ openChat }) {
  onOpen = openChat;
  listEl = byId("chat-list");
  scrollEl = byId("list-scroll");
  footerEl = byId("list-footer");
  emptyEl = byId("list-empty");
  emptyHintEl = byId("list-empty-hint");

  listEl.addEventListener("click", (e) => {
    const row = e.target.closest("li[data-chat-id]");
    // In one-pane mode the list disappears: the conversation takes the focus with it.
    if (row) onOpen(Number(row.dataset.chatId), { focusTimeline: isNarrow() });
  });
  listEl.addEventListener("focusin", (e) => {
    const row = e.target.closest("li[data-chat-id]");
    if (row) setRoving(row);
  });
  scrollEl.addEventListener("scroll", maybeLoadMore, { passive: true });

  subscribe("chats", (s, details) => renderChatList(s, details.includes("all") ? null : new Set(details.flat())));
  subscribe("mutes", (s) => renderChatList(s, null));
  subscribe("clock", (s) => renderChatList(s, null));
  subscribe("lang", (s) => renderChatList(s, null));
  subscribe("waits", (s) => renderChatList(s, new Set(clockRows)));
  subscribe("open", renderSelection);
  subscribe("info", renderEmpty);
  subscribe("banners", () => state.chatsError && renderFooter());
  // Sorting by wait pages the store in another order: what is loaded may not be its first page.
  subscribe("settings", (s) => {
    if (loadedOrder !== null && chatOrder(s.settings) !== loadedOrder) reloadChats();
  });
}

/* ---- loading ---- */

export async function loadMoreChats() {
  if (state.chatsLoading || state.chatsExhausted) return;
  state.chatsLoading = true;
  renderFooter();
  loadedOrder = chatOrder();
  try {
    const page = await api.listChats(PAGE_SIZE, state.chats.size, loadedOrder);
    state.chatsExhausted = page.length < PAGE_SIZE;
    state.chatsError = null;
    upsertChats(page, { fromPage: true });
  } catch (e) {
    state.chatsError = e;
  } finally {
    state.chatsLoading = false;
    notify("chats", []);
  }
  // A tall window may show the whole first page with room to spare: fill it.
  requestAnimationFrame(maybeLoadMore);
}

/** Reloads as many chats as are loaded now (resync, or the database changed under us). */
export async function reloadChats() {
  const want = Math.max(PAGE_SIZE, state.chats.size);
  const wanted = chatOrder();
  loadedOrder = wanted;
  state.chatsLoading = true;
  try {
    const all = [];
    let exhausted = false;
    while (all.length < want) {
      const limit = Math.min(RELOAD_PAGE, want - all.length);
      const page = await api.listChats(limit, all.length, wanted);
      all.push(...page);
      if (page.length < limit) {
        exhausted = true;
        break;
      }
    }
    state.chatsExhausted = exhausted;
    state.chatsError = null;
    replaceChats(all);
  } catch (e) {
    state.chatsError = e;
    notify("chats", []);
  } finally {
    state.chatsLoading = false;
  }
}

function maybeLoadMore() {
  if (state.chatsLoading || state.chatsExhausted || state.chatsError) return;
  const remaining = scrollEl.scrollHeight - scrollEl.scrollTop - scrollEl.clientHeight;
  if (remaining < LOAD_MORE_MARGIN) loadMoreChats();
}

/* ---- rendering ---- */

function buildRow(userId) {
  const avatar = el("span", { class: "avatar", attrs: { "aria-hidden": "true" } });
  const dot = el("span", { class: "online-dot", attrs: { "aria-hidden": "true" } });
  const name = el("span", { class: "chat-name", dir: "auto" });
  const source = el("span", { class: "chat-source" });
  const muted = el("span", { class: "muted-icon icon icon-bell-off", attrs: { "aria-hidden": "true" } });
  const time = el("time", { class: "chat-time" });
  const typing = el("span", { class: "typing" }, [el("span", { class: "typing-dots", attrs: { "aria-hidden": "true" } }), el("span", { class: "typing-text" })]);
  const preview = el("span", { class: "chat-preview", dir: "auto" });
  const wait = el("span", { class: "chat-waiting", attrs: { "aria-hidden": "true" } });
  const badge = el("span", { class: "unread-badge", attrs: { "aria-hidden": "true" } });
  const srStatus = el("span", { class: "visually-hidden" });
  const li = el(
    "li",
    { class: "chat-row", data: { chatId: userId }, attrs: { role: "option", tabindex: "-1", "aria-selected": "false" } },
    [
      el("span", { class: "avatar-wrap" }, [avatar, dot]),
      el("span", { class: "chat-main" }, [
        el("span", { class: "chat-line" }, [name, source, muted, time]),
        el("span", { class: "chat-line" }, [typing, preview, wait, badge]),
      ]),
      srStatus,
    ],
  );
  return { li, avatar, dot, name, source, muted, time, typing, typingText: typing.lastChild, preview, wait, badge, srStatus, key: null };
}

function sourceLabel(chat) {
  const kind = sourceKind(chat);
  if (kind === "other") return chat.source;
  return t(`source.${kind}`);
}

export function previewText(message) {
  if (!message) return "";
  if (message.text != null && message.text !== "") return message.text;
  if (message.file_path) return fileName(message.file_path);
  return t("message.empty");
}

/** The row's wait: "snoozed until 14:05" while snoozed, else "waiting 3 min", else nothing. */
function waitLabel(chat, now) {
  const until = snoozedUntil(chat, now.getTime());
  if (until != null) {
    const time = timeOrDate(new Date(until), now);
    return { state: "snoozed", text: t("wait.snoozed", { time }), title: t("wait.snoozed_title", { time }) };
  }
  const since = waitingSince(chat);
  if (since != null) {
    return {
      state: "waiting",
      text: t("wait.label", { duration: duration(now.getTime() - since) }),
      title: t("wait.title", { time: timeOrDate(new Date(since), now) }),
    };
  }
  return { state: null, text: "", title: "" };
}

function updateRow(row, chat, now) {
  const muted = isMuted(chat.user_id, now);
  const last = chat.last_message;
  const lastDate = parseTime(last ? last.sent_at : chat.created_at);
  const wait = waitLabel(chat, now);
  // Everything the row shows, in one string: an unchanged chat costs no DOM writes.
  const key = [
    chat.name, chat.source, chat.online, chat.typing, chat.unread, last && last.seq, muted,
    lastDate && lastDate.getTime(), state.language, now.toDateString(), wait.state, wait.text, wait.title,
  ].join("\u0001");
  if (row.key === key) return;
  row.key = key;

  setText(row.avatar, initials(chat.name));
  setData(row.avatar, "tone", Math.abs(chat.user_id) % 8);
  setText(row.name, chat.name);
  row.name.title = chat.name;
  setText(row.source, sourceLabel(chat));
  setData(row.source, "kind", sourceKind(chat));

  setHidden(row.dot, chat.online == null);
  toggleClass(row.dot, "is-online", chat.online === true);
  toggleClass(row.dot, "is-offline", chat.online === false);

  setHidden(row.muted, !muted);
  row.muted.title = muted ? t("list.muted") : "";

  setText(row.time, lastDate ? listTime(lastDate, now) : "");
  if (lastDate) row.time.setAttribute("datetime", lastDate.toISOString());

  setHidden(row.typing, !chat.typing);
  setText(row.typingText, t("typing.short"));
  setHidden(row.preview, chat.typing);
  setText(row.preview, previewText(last));
  toggleClass(row.preview, "is-empty", !last || (!last.text && !last.file_path));
  toggleClass(row.preview, "with-attachment", !!last && !last.text && !!last.file_path);

  const unread = chat.unread || 0;
  setHidden(row.badge, unread === 0);
  setText(row.badge, unread === 0 ? "" : unread > 99 ? "99+" : String(unread));
  toggleClass(row.badge, "is-muted", muted);
  toggleClass(row.li, "has-unread", unread > 0);

  setHidden(row.wait, wait.state == null);
  setText(row.wait, wait.text);
  setData(row.wait, "state", wait.state);
  row.wait.title = wait.title;
  toggleClass(row.wait, "is-muted", muted);
  toggleClass(row.li, "is-waiting", wait.state === "waiting");
  toggleClass(row.li, "is-snoozed", wait.state === "snoozed");

  const status = [];
  if (chat.online === true) status.push(t("presence.online"));
  if (chat.typing) status.push(t("typing.long"));
  if (muted) status.push(t("list.muted"));
  if (unread > 0) status.push(t("list.unread", { count: unread }));
  if (wait.state) status.push(wait.text);
  setText(row.srStatus, status.length ? `, ${status.join(", ")}` : "");
}

/**
 * One render path for the list. `changed` is the set of user_ids that changed, or null to
 * refresh every row (language, settings, clock).
 */
export function renderChatList(s, changed) {
  const now = new Date();
  const ids = changed ? [...changed] : [...s.chats.keys()];
  let added = false;
  for (const id of ids) {
    const chat = s.chats.get(id);
    if (!chat) continue;
    let row = rows.get(id);
    if (!row) {
      row = buildRow(id);
      rows.set(id, row);
      added = true;
    }
    updateRow(row, chat, now);
  }
  for (const [id, row] of rows) {
    if (!s.chats.has(id)) {
      row.li.remove();
      rows.delete(id);
      added = true;
    }
  }

  // Sorting a few thousand summaries is cheap; moving nodes is not: touch the DOM only when
  // the order actually changed. A changed chat lands where the current order puts it.
  const sorted = [...s.chats.values()].sort(comparatorFor(chatOrder(s.settings))).map((c) => c.user_id);
  const same = !added && sorted.length === order.length && sorted.every((id, i) => id === order[i]);
  if (!same) {
    order = sorted;
    reconcileChildren(listEl, order.map((id) => rows.get(id).li));
  }
  renderSelection(s);
  renderFooter();
  renderEmpty(s);
  scheduleWaitTick(s, now.getTime());
}

/**
 * Sets the one timer the waits need: at the next whole minute of the longest wait, or at the end
 * of the next snooze if that comes first. Other chats' labels follow at that tick (at most a
 * minute behind), so twenty waiting chats cost one wakeup a minute, and none cost none.
 */
function scheduleWaitTick(s, now) {
  let oldest = null;
  let snoozeEnd = null;
  clockRows.clear();
  for (const chat of s.chats.values()) {
    const until = snoozedUntil(chat, now);
    if (until != null) {
      clockRows.add(chat.user_id);
      if (snoozeEnd === null || until < snoozeEnd) snoozeEnd = until;
      continue;
    }
    const since = waitingSince(chat);
    if (since != null) {
      clockRows.add(chat.user_id);
      if (oldest === null || since < oldest) oldest = since;
    }
  }
  let at = null;
  if (oldest !== null) at = oldest + (Math.max(0, Math.floor((now - oldest) / 60_000)) + 1) * 60_000;
  if (snoozeEnd !== null && (at === null || snoozeEnd < at)) at = snoozeEnd;
  if (at === waitTimerAt) return;
  clearTimeout(waitTimer);
  waitTimer = 0;
  waitTimerAt = at;
  if (at === null) return;
  waitTimer = setTimeout(() => {
    waitTimer = 0;
    waitTimerAt = null;
    notify("waits");
  }, Math.min(Math.max(0, at - now) + TICK_SLACK_MS, MAX_TIMEOUT_MS));
}

function renderSelection(s) {
  let roving = null;
  for (const [id, row] of rows) {
    const selected = id === s.openChatId;
    const value = selected ? "true" : "false";
    if (row.li.getAttribute("aria-selected") !== value) row.li.setAttribute("aria-selected", value);
    if (row.li.tabIndex === 0) roving = row.li;
  }
  const open = rows.get(s.openChatId);
  if (open && document.activeElement?.closest?.("#chat-list") == null) setRoving(open.li);
  else if (!roving && order.length) setRoving(rows.get(order[0]).li);
}

function setRoving(li) {
  const current = listEl.querySelector('li[tabindex="0"]');
  if (current === li) return;
  if (current) current.tabIndex = -1;
  li.tabIndex = 0;
}

/**
 * Why the list is not shown. While the session could not start because of its database, that
 * reason is the one the whole window gives (the banner, the status bar): the list's own read
 * may fail for a consequence of it (no database yet) and must not tell another story. The
 * banner's "Try again" is then the one action.
 */
function renderListError(s) {
  const problem = s.banners.storeProblem;
  const error = s.chatsError;
  const store = problem ?? (error.kind === "store" ? error : null);
  const text = store ? t("store_problem.list", { what: storeProblemWords(store.reason).what }) : t("list.load_failed", { error: error.message });
  const retry = () => {
    state.chatsError = null;
    loadMoreChats();
  };
  const line = el("span", { class: "list-error", data: { reason: store?.reason }, text });
  if (problem) footerEl.replaceChildren(line);
  else footerEl.replaceChildren(line, el("button", { class: "btn btn-small", text: t("common.retry"), attrs: { type: "button" }, on: { click: retry } }));
}

function renderFooter() {
  if (state.chatsError) {
    renderListError(state);
  } else if (state.chatsLoading && state.chats.size > 0) {
    footerEl.replaceChildren(el("span", { class: "spinner", attrs: { "aria-hidden": "true" } }), el("span", { text: t("list.loading") }));
  } else {
    footerEl.replaceChildren();
  }
}

function renderEmpty(s) {
  const empty = s.chats.size === 0 && !s.chatsLoading && !s.chatsError && document.body.dataset.ready === "true";
  setHidden(emptyEl, !empty);
  const mode = s.info ? s.info.mode : "server";
  setText(emptyHintEl, t(mode === "unconfigured" ? "list.empty_unconfigured" : mode === "demo" ? "list.empty_demo" : "list.empty_hint"));
}

/* ---- keyboard helpers (used by keyboard.js) ---- */

export function focusChatRow(which) {
  if (!order.length) return false;
  const current = document.activeElement?.closest?.("li[data-chat-id]");
  let index = current ? order.indexOf(Number(current.dataset.chatId)) : order.indexOf(state.openChatId);
  if (which === "first") index = 0;
  else if (which === "last") index = order.length - 1;
  else if (which === "next") index = index < 0 ? 0 : Math.min(order.length - 1, index + 1);
  else if (which === "prev") index = index < 0 ? 0 : Math.max(0, index - 1);
  else if (which === "current") index = index < 0 ? 0 : index;
  else if (which === "pagedown") index = Math.min(order.length - 1, Math.max(0, index) + 10);
  else if (which === "pageup") index = Math.max(0, index - 10);
  const row = rows.get(order[index]);
  setRoving(row.li);
  row.li.focus();
  row.li.scrollIntoView({ block: "nearest" });
  if (index >= order.length - 20) maybeLoadMore();
  return true;
}

export function adjacentChatId(delta) {
  if (!order.length) return null;
  const index = order.indexOf(state.openChatId);
  const next = index < 0 ? 0 : Math.min(order.length - 1, Math.max(0, index + delta));
  return order[next];
}
