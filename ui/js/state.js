// The single store of UI state. Views subscribe to topics and receive every detail notified
// since their last call, coalesced per microtask, so a burst of events costs one render.

export const state = {
  info: null, // AppInfo, as last received
  settings: null, // Settings
  connection: { state: "connecting", attempt: 0 },
  chats: new Map(), // user_id -> ChatSummary
  chatsExhausted: false,
  chatsLoading: false,
  chatsError: null,
  unreadTotal: 0,
  // WaitingSummary: chats waiting for the agent to open them (AppInfo.waiting, then chatbell:waiting).
  waiting: { chats: 0, longest_since: null, urgent: 0 },
  openChatId: null,
  // The open chat's loaded pages; only what has been loaded is ever rendered.
  timeline: null,
  search: { query: "", results: [], chatMatches: [], loading: false, error: null, active: false },
  language: "en",
  // storeProblem: { reason, message } while the session could not start because of its database.
  // orgProblem: { path, problem } while the organization's settings file is set aside (until dismissed).
  banners: { storeError: null, notice: null, trayHint: false, fatal: null, storeProblem: null, serviceLost: false, orgProblem: null },
};

const listeners = new Map();
const pending = new Map();
let scheduled = false;

export function subscribe(topic, fn) {
  if (!listeners.has(topic)) listeners.set(topic, new Set());
  listeners.get(topic).add(fn);
  return () => listeners.get(topic).delete(fn);
}

export function notify(topic, detail) {
  if (!pending.has(topic)) pending.set(topic, []);
  if (detail !== undefined) pending.get(topic).push(detail);
  if (!scheduled) {
    scheduled = true;
    queueMicrotask(flush);
  }
}

function flush() {
  scheduled = false;
  const batch = [...pending];
  pending.clear();
  for (const [topic, details] of batch) {
    for (const fn of listeners.get(topic) ?? []) {
      try {
        fn(state, details);
      } catch (e) {
        console.error(`render of "${topic}" failed`, e);
      }
    }
  }
}

/* ---- mutations: each one says what changed ---- */

export function setInfo(info) {
  if (earlyOrganization) {
    // The resident took the problem as said when it sent the event: say it here.
    const announce = Boolean(earlyOrganization.announce || info.organization?.announce);
    info = { ...info, organization: { ...info.organization, announce } };
    earlyOrganization = null;
  }
  const modeChanged = state.info && state.info.mode !== info.mode;
  state.info = info;
  notify("info", { modeChanged });
  setSettings(info.settings);
  setConnection(info.connection);
  setUnreadTotal(info.unread_total);
  setWaiting(info.waiting);
}

// chatbell:organization that came before the first AppInfo: its `announce` is kept for it.
let earlyOrganization = null;

/** The organization's file changed (chatbell:organization): what it locks, what is wrong with it. */
export function setOrganization(organization) {
  if (!organization) return;
  if (!state.info) {
    earlyOrganization = organization;
    return;
  }
  state.info = { ...state.info, organization };
  notify("info", {});
}

export function setSettings(settings) {
  if (!settings) return;
  state.settings = settings;
  if (state.info) state.info = { ...state.info, settings };
  notify("settings");
}

export function setConnection(connection) {
  if (!connection) return;
  state.connection = connection;
  notify("connection");
}

export function setWaiting(summary) {
  if (!summary || typeof summary.chats !== "number") return;
  const w = state.waiting;
  if (w.chats === summary.chats && w.longest_since === summary.longest_since && w.urgent === summary.urgent) return;
  state.waiting = { chats: summary.chats, longest_since: summary.longest_since ?? null, urgent: summary.urgent ?? 0 };
  notify("waiting");
}

export function setUnreadTotal(total) {
  if (typeof total !== "number" || total === state.unreadTotal) return;
  state.unreadTotal = total;
  notify("unread");
}

const lastSeq = (chat) => (chat && chat.last_message ? chat.last_message.seq : -1);

/**
 * Events carry chats as they are now; a page of list_chats may have been read just before an
 * event landed, so a page never replaces a chat with an older last message.
 */
export function upsertChats(chats, { fromPage = false } = {}) {
  if (!chats || chats.length === 0) return;
  const changed = [];
  for (const chat of chats) {
    const existing = state.chats.get(chat.user_id);
    if (fromPage && existing && lastSeq(existing) > lastSeq(chat)) continue;
    state.chats.set(chat.user_id, chat);
    changed.push(chat.user_id);
  }
  if (changed.length) notify("chats", changed);
}

export function replaceChats(chats) {
  state.chats = new Map(chats.map((c) => [c.user_id, c]));
  notify("chats", "all");
}

export function patchChat(userId, patch) {
  const chat = state.chats.get(userId);
  if (!chat) return;
  state.chats.set(userId, { ...chat, ...patch });
  notify("chats", [userId]);
}

export function setOpenChatId(userId) {
  state.openChatId = userId;
  notify("open");
}

export function setSearch(patch) {
  state.search = { ...state.search, ...patch };
  notify("search");
}

export function setBanner(name, value) {
  state.banners = { ...state.banners, [name]: value };
  notify("banners");
}

/* ---- derived ---- */

export function muteUntil(userId) {
  const mutes = state.settings?.notifications?.mutes ?? {};
  if (!(String(userId) in mutes)) return undefined;
  return mutes[String(userId)];
}

/** Muted now: until-unmuted (null) or a time still ahead. */
export function isMuted(userId, now = Date.now()) {
  const until = muteUntil(userId);
  if (until === undefined) return false;
  if (until === null) return true;
  const t = Date.parse(until);
  return Number.isNaN(t) ? false : t > now;
}

export function nextMuteExpiry(now = Date.now()) {
  const mutes = state.settings?.notifications?.mutes ?? {};
  let next = null;
  for (const until of Object.values(mutes)) {
    if (until == null) continue;
    const t = Date.parse(until);
    if (t > now && (next === null || t < next)) next = t;
  }
  return next;
}

/** The order list_chats is asked for: settings.ui.sort_by_wait picks "waiting". */
export function chatOrder(settings = state.settings) {
  return settings?.ui?.sort_by_wait ? "waiting" : "activity";
}

/** waiting_since in ms, or null when nothing is waiting for the agent to open it. */
export function waitingSince(chat) {
  if (!chat || !chat.waiting_since) return null;
  const t = Date.parse(chat.waiting_since);
  return Number.isNaN(t) ? null : t;
}

/** The snooze's end in ms while it is still ahead, else null (a past time means it ended). */
export function snoozedUntil(chat, now = Date.now()) {
  if (!chat || !chat.snoozed_until) return null;
  const t = Date.parse(chat.snoozed_until);
  return Number.isNaN(t) || t <= now ? null : t;
}

/** The comparator of an order, the same as the store's (snoozes do not move a chat). */
export function comparatorFor(order) {
  return order === "waiting" ? compareByWait : compareChats;
}

/** Waiting chats first, the longest wait (the earliest waiting_since) first; then by activity. */
export function compareByWait(a, b) {
  const aw = waitingSince(a);
  const bw = waitingSince(b);
  if (aw != null && bw != null && aw !== bw) return aw - bw;
  if (aw != null && bw == null) return -1;
  if (aw == null && bw != null) return 1;
  return compareChats(a, b);
}

/** The list's order: newest message first; chats without messages last, newest first (as the store pages them). */
export function compareChats(a, b) {
  const am = a.last_message;
  const bm = b.last_message;
  if (am && bm) return bm.seq - am.seq;
  if (am) return -1;
  if (bm) return 1;
  return Date.parse(b.created_at) - Date.parse(a.created_at) || b.user_id - a.user_id;
}

export function sourceKind(chat) {
  if (chat.source === "telegram") return "telegram";
  if (chat.source === "widget") return "widget";
  if (chat.source) return "other";
  // No source recorded: the contract gives the id's sign (> 0 Telegram, < 0 widget).
  return chat.user_id < 0 ? "widget" : "telegram";
}
