// Message search: results replace the chat list while a query is typed. Snippets arrive as
// segments; matched words become <mark> elements holding text, nothing is parsed as markup.

import * as api from "./api.js";
import { byId, el, fileName, initials, setData, setHidden, setText } from "./dom.js";
import { t } from "./i18n/index.js";
import { setSearch, state, subscribe } from "./state.js";
import { listTime, parseTime } from "./time.js";

const DEBOUNCE_MS = 150;
const LIMIT = 50;
const MAX_QUERY = 200; // the shell refuses longer queries
const CHAT_MATCHES = 5;

let input, clearBtn, panel, listScroll, summaryEl, resultsEl;
let timer = 0;
let token = 0;
let actions = { openChat: () => {}, showMessage: () => {} };

export function initSearch(a) {
  actions = { ...actions, ...a };
  input = byId("search-input");
  clearBtn = byId("search-clear");
  panel = byId("search-panel");
  listScroll = byId("list-scroll");
  summaryEl = byId("search-summary");
  resultsEl = byId("search-results");

  input.addEventListener("input", onInput);
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" && state.search.active) {
      e.preventDefault();
      moveResult("first");
    } else if (e.key === "Enter" && state.search.active) {
      e.preventDefault();
      clearTimeout(timer);
      if (state.search.query.trim() && !state.search.results.length && !state.search.chatMatches.length) run();
      else activate(resultsEl.querySelector("[role=option]"));
    }
  });
  clearBtn.addEventListener("click", () => {
    clearSearch();
    input.focus();
  });
  resultsEl.addEventListener("click", (e) => activate(e.target.closest("[role=option]")));
  resultsEl.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      const option = e.target.closest("[role=option]");
      if (option) {
        e.preventDefault();
        activate(option);
      }
    }
  });
  resultsEl.addEventListener("focusin", (e) => {
    const option = e.target.closest("[role=option]");
    if (!option) return;
    for (const o of resultsEl.querySelectorAll('[tabindex="0"]')) if (o !== option) o.tabIndex = -1;
    option.tabIndex = 0;
  });

  subscribe("search", renderSearch);
  subscribe("lang", renderSearch);
  subscribe("open", markOpen);
}

function onInput() {
  const query = input.value.slice(0, MAX_QUERY);
  clearTimeout(timer);
  if (!query.trim()) {
    clearSearch({ keepInput: true });
    return;
  }
  setSearch({ query, active: true, chatMatches: matchChats(query), loading: true, error: null });
  timer = setTimeout(run, DEBOUNCE_MS);
}

async function run() {
  const query = state.search.query.trim();
  if (!query) return;
  const mine = ++token;
  try {
    const results = await api.searchMessages(query, LIMIT);
    if (mine !== token) return;
    setSearch({ results, loading: false, error: null });
  } catch (e) {
    if (mine !== token) return;
    setSearch({ results: [], loading: false, error: e.message });
  }
}

function matchChats(query) {
  const q = query.trim().toLocaleLowerCase();
  if (!q) return [];
  const out = [];
  for (const chat of state.chats.values()) {
    const hay = `${chat.name}\n${chat.username ?? ""}`.toLocaleLowerCase();
    if (hay.includes(q)) {
      out.push(chat.user_id);
      if (out.length >= CHAT_MATCHES) break;
    }
  }
  return out;
}

export function clearSearch({ keepInput = false } = {}) {
  clearTimeout(timer);
  token++;
  if (!keepInput) input.value = "";
  setSearch({ query: "", results: [], chatMatches: [], loading: false, error: null, active: false });
}

export function focusSearch() {
  input.focus();
  input.select();
}

export function isSearchActive() {
  return state.search.active;
}

/* ---- rendering ---- */

export function renderSearch(s) {
  const search = s.search;
  setHidden(panel, !search.active);
  setHidden(listScroll, search.active);
  setHidden(clearBtn, !input.value);
  if (!search.active) {
    resultsEl.replaceChildren();
    setText(summaryEl, "");
    return;
  }

  if (search.error) setText(summaryEl, t("search.failed", { error: search.error }));
  else if (search.loading && !search.results.length) setText(summaryEl, t("search.searching"));
  else if (!search.results.length && !search.chatMatches.length) setText(summaryEl, t("search.nothing", { query: search.query.trim() }));
  else setText(summaryEl, t("search.count", { count: search.results.length }) + (search.results.length >= LIMIT ? ` ${t("search.more_hint")}` : ""));

  const items = [];
  const chats = search.chatMatches.map((id) => s.chats.get(id)).filter(Boolean);
  if (chats.length) {
    items.push(el("li", { class: "search-heading", attrs: { role: "presentation" }, text: t("search.chats") }));
    for (const chat of chats) items.push(chatOption(chat));
  }
  if (search.results.length) {
    if (chats.length) items.push(el("li", { class: "search-heading", attrs: { role: "presentation" }, text: t("search.messages") }));
    for (const hit of search.results) items.push(hitOption(hit));
  }
  resultsEl.replaceChildren(...items);
  const first = resultsEl.querySelector("[role=option]");
  if (first) first.tabIndex = 0;
  markOpen(s);
}

function chatOption(chat) {
  const avatar = el("span", { class: "avatar avatar-small", text: initials(chat.name), attrs: { "aria-hidden": "true" } });
  setData(avatar, "tone", Math.abs(chat.user_id) % 8);
  return el("li", { class: "search-chat", data: { userId: chat.user_id }, attrs: { role: "option", tabindex: "-1", "aria-selected": "false" } }, [
    avatar,
    el("span", { class: "search-name", dir: "auto", text: chat.name }),
    chat.username ? el("span", { class: "search-username", dir: "auto", text: `@${chat.username}` }) : null,
  ]);
}

function hitOption(hit) {
  const m = hit.message;
  const snippet = el("span", { class: "search-snippet", dir: "auto" });
  const segments = Array.isArray(hit.snippet) ? hit.snippet : [];
  if (segments.length) {
    for (const seg of segments) snippet.append(seg.hit ? el("mark", { text: seg.text }) : document.createTextNode(seg.text));
  } else {
    snippet.append(document.createTextNode(m.text || (m.file_path ? fileName(m.file_path) : "")));
    snippet.classList.toggle("with-attachment", !m.text && !!m.file_path);
  }
  const sent = parseTime(m.sent_at);
  return el("li", { class: "search-hit", data: { seq: m.seq, userId: m.user_id }, attrs: { role: "option", tabindex: "-1", "aria-selected": "false" } }, [
    el("span", { class: "search-hit-top" }, [
      el("span", { class: "search-name", dir: "auto", text: hit.chat_name }),
      el("time", { class: "search-time", text: listTime(sent), attrs: { datetime: m.sent_at } }),
    ]),
    snippet,
  ]);
}

function markOpen(s) {
  for (const option of resultsEl.querySelectorAll("[role=option]")) {
    const selected = Number(option.dataset.userId) === s.openChatId && (!option.dataset.seq || s.timeline?.seqs?.has(Number(option.dataset.seq)));
    option.setAttribute("aria-selected", selected ? "true" : "false");
  }
}

function activate(option) {
  if (!option) return;
  const userId = Number(option.dataset.userId);
  if (option.dataset.seq) actions.showMessage(userId, Number(option.dataset.seq));
  else actions.openChat(userId, { focusTimeline: false });
}

/** Up/Down through results; up from the first goes back to the search field. */
export function moveResult(which) {
  const options = [...resultsEl.querySelectorAll("[role=option]")];
  if (!options.length) return false;
  const index = options.indexOf(document.activeElement);
  let next;
  if (which === "first") next = 0;
  else if (which === "last") next = options.length - 1;
  else if (which === "next") next = Math.min(options.length - 1, index + 1);
  else {
    if (index <= 0) {
      input.focus();
      return true;
    }
    next = index - 1;
  }
  options[next].focus();
  options[next].scrollIntoView({ block: "nearest" });
  return true;
}
