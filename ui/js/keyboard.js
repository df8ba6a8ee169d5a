// App-wide shortcuts. Keys typed into a field belong to that field, except Esc, Ctrl+F and
// Ctrl+Shift+O, which always mean "get me out", "search" and "reply in the web panel".

import { state } from "./state.js";

export const NARROW_QUERY = "(max-width: 43.75em)";

export function isNarrow() {
  return window.matchMedia(NARROW_QUERY).matches;
}

function isTypingTarget(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  if (target.tagName === "TEXTAREA" || target.tagName === "SELECT") return true;
  if (target.tagName !== "INPUT") return false;
  return !["checkbox", "radio", "button", "submit", "reset", "range", "color"].includes(target.type);
}

export function initKeyboard(a) {
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.isComposing) return;
    if (a.isWelcomeOpen()) return;
    const mod = (e.ctrlKey || e.metaKey) && !e.altKey;

    if (mod && (e.code === "KeyF" || e.key.toLowerCase() === "f")) {
      e.preventDefault();
      if (a.isSettingsOpen()) return;
      if (isNarrow() && state.openChatId != null) a.closeChat();
      a.focusSearch();
      return;
    }
    if (mod && (e.key === "," || e.code === "Comma")) {
      e.preventDefault();
      a.openSettings();
      return;
    }
    // By key position, so it works on a Russian layout too (KeyO types "щ" there).
    if (mod && e.shiftKey && (e.code === "KeyO" || e.key.toLowerCase() === "o")) {
      e.preventDefault();
      if (a.isSettingsOpen()) return;
      // The chat under the keyboard focus (a list row or a search result), else the open one.
      const row = e.target instanceof Element ? e.target.closest("#chat-list [data-chat-id], #search-results [data-user-id]") : null;
      const id = row ? Number(row.dataset.chatId ?? row.dataset.userId) : state.openChatId;
      a.replyInWebPanel(id);
      return;
    }
    // The dialog is modal: it handles its own keys, and Esc cancels it natively.
    if (a.isSettingsOpen()) return;

    if (e.key === "Escape") {
      if (a.closeMuteMenu()) {
        e.preventDefault();
        return;
      }
      const searchInput = document.getElementById("search-input");
      if (a.isSearchActive() || searchInput.value) {
        e.preventDefault();
        a.clearSearch();
        // The list comes back on the next render (a microtask away): focus it after that.
        queueMicrotask(() => a.focusChatRow("current"));
        return;
      }
      if (state.openChatId != null) {
        e.preventDefault();
        if (isNarrow()) a.closeChat({ focusList: true });
        else a.focusChatRow("current");
      }
      return;
    }

    if (isTypingTarget(e.target) || e.ctrlKey || e.metaKey) return;
    const target = e.target instanceof Element ? e.target : document.body;
    const inList = target.closest("#chat-list");
    const inResults = target.closest("#search-results");
    const inTimeline = target.closest("#timeline-scroll");

    if (e.altKey && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault();
      const id = a.adjacentChatId(e.key === "ArrowDown" ? 1 : -1);
      if (id != null) a.openChat(id, { focusTimeline: true });
      return;
    }
    if (e.altKey) return;

    const moves = { ArrowDown: "next", ArrowUp: "prev", Home: "first", End: "last", PageDown: "pagedown", PageUp: "pageup" };
    if (moves[e.key]) {
      if (inResults) {
        if (e.key === "ArrowDown" || e.key === "ArrowUp" || e.key === "Home" || e.key === "End") {
          e.preventDefault();
          a.moveResult(moves[e.key] === "prev" ? "prev" : moves[e.key] === "next" ? "next" : moves[e.key]);
        }
        return;
      }
      if (inList) {
        e.preventDefault();
        a.focusChatRow(moves[e.key]);
        return;
      }
      // Nothing focused yet: arrows start in the list (or the results), never in a scroller.
      if (!inTimeline && (target === document.body || target.closest(".sidebar-header, .chat-empty")) && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
        e.preventDefault();
        if (a.isSearchActive()) a.moveResult("first");
        else a.focusChatRow("current");
      }
      return;
    }

    if ((e.key === "Enter" || e.key === " ") && inList) {
      const row = target.closest("li[data-chat-id]");
      if (row) {
        e.preventDefault();
        a.openChat(Number(row.dataset.chatId), { focusTimeline: isNarrow() });
      }
    }
  });
}
