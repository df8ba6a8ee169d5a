// The only module that touches window.__TAURI__: one function per command of docs/ipc.md, and
// `on` for events. Keys stay snake_case, exactly as the shell expects them.

/**
 * A failed command (CommandError of docs/ipc.md): `kind` to branch on, `message` in English for
 * a kind the page does not word itself. What the page words crosses as data: a store error's
 * `reason` and `path`; a refused setting's `field` (its path in Settings) and `problem`; a
 * connection that could not be made (kind "net"), its `failure` (a NetFailure).
 */
export class ApiError extends Error {
  constructor(kind, message, { reason = null, path = null, field = null, problem = null, failure = null } = {}) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.reason = reason;
    this.path = path;
    this.field = field;
    this.problem = problem;
    this.failure = failure;
  }
}

function tauri() {
  const t = window.__TAURI__;
  if (!t || !t.core || !t.event) throw new ApiError("engine", "The Tauri bridge is not available");
  return t;
}

export function isAvailable() {
  const t = window.__TAURI__;
  return Boolean(t && t.core && typeof t.core.invoke === "function" && t.event && typeof t.event.listen === "function");
}

function toError(e) {
  if (e instanceof ApiError) return e;
  if (e && typeof e === "object" && typeof e.message === "string") {
    const text = (v) => (typeof v === "string" ? v : null);
    return new ApiError(e.kind || "engine", e.message, {
      reason: text(e.reason),
      path: text(e.path),
      field: text(e.field),
      problem: e.problem && typeof e.problem === "object" ? e.problem : null,
      failure: e.failure && typeof e.failure === "object" ? e.failure : null,
    });
  }
  return new ApiError("engine", String(e));
}

async function call(command, args) {
  try {
    return await tauri().core.invoke(command, args);
  } catch (e) {
    throw toError(e);
  }
}

export const appInfo = () => call("app_info");
/** order: "activity" (newest first) or "waiting" (waiting chats first, the longest wait first). */
export const listChats = (limit, offset, order = "activity") => call("list_chats", { limit, offset, order });
export const getChat = (userId) => call("get_chat", { user_id: userId });
export const chatHistory = (userId, before, limit) => call("chat_history", { user_id: userId, before: before ?? null, limit });
export const searchMessages = (query, limit) => call("search_messages", { query, limit });
export const markRead = (userId) => call("mark_read", { user_id: userId });
export const setOpenChat = (userId) => call("set_open_chat", { user_id: userId ?? null });
export const saveSettings = (settings) => call("save_settings", { settings });
/** Saves a secret to the system keychain; name: "token", "proxy_password" or "key_passphrase". */
export const setSecret = (name, value) => call("set_secret", { name, value });
export const clearSecret = (name) => call("clear_secret", { name });
/**
 * Saves a forwarding target's secret to the system keychain, under the target's `id`: an ntfy
 * access token, a Gotify application token, or a webhook URL that carries a secret. AppInfo's
 * forward_secrets then lists the id (never the secret).
 */
export const setForwardSecret = (id, value) => call("set_forward_secret", { id, value });
export const clearForwardSecret = (id) => call("clear_forward_secret", { id });
/**
 * Sends a test alert to `target` (a ForwardTarget as drafted, not necessarily saved; its secret
 * as stored): ForwardCheck { id, delivered, error } (error: in the agent's language, plain text).
 */
export const testForward = (target) => call("test_forward", { target });
/**
 * Connects once with `server` (the settings' `server`, as drafted; the secrets as stored):
 * CheckReport { route, trust, issuer }, or rejects with kind "net" and the `failure`, or kind
 * "setting" for a value Save would refuse.
 */
export const checkConnection = (server) => call("check_connection", { server });
export const muteChat = (userId, minutes) => call("mute_chat", { user_id: userId, minutes: minutes ?? null });
export const unmuteChat = (userId) => call("unmute_chat", { user_id: userId });
/** null minutes: the settings' notifications.snooze_minutes. Resolves to { user_id, until }. */
export const snoozeChat = (userId, minutes) => call("snooze_chat", { user_id: userId, minutes: minutes ?? null });
export const unsnoozeChat = (userId) => call("unsnooze_chat", { user_id: userId });
/** Opens the chat in the service's web panel, in the default browser (the shell fills the template). */
export const openWebPanel = (userId) => call("open_web_panel", { user_id: userId });
/** The template filled with a sample chat: { url }; rejects with server.web_panel's problem (kind "setting"). */
export const previewWebPanel = (template) => call("preview_web_panel", { template });
export const setDnd = (on) => call("set_dnd", { on });
/** Plays a tone now (volume 0–100) and resolves when it has played: PlayReport { device, tone, first_sample_ms, duration_ms }. */
export const previewSound = (tone, volume) => call("preview_sound", { tone, volume });
/**
 * Plays a sound and shows a sample notification, and sends a test to every saved forwarding
 * target: AlertTest { sound, notification, blockers, notes, forwards: ForwardCheck[] }.
 */
export const testAlerts = () => call("test_alerts");
export const recentDecisions = () => call("recent_decisions");
export const startDemo = () => call("start_demo");
/** Starts again the session that could not start (a store problem's "Try again"): AppInfo. */
export const retryStart = () => call("retry_start");
export const reconnectNow = () => call("reconnect_now");
/** Once per window: ms after navigation start to DOMContentLoaded and to the first painted chat list. */
export const pagePainted = (domMs, paintedMs) => call("page_painted", { dom_ms: domMs, painted_ms: paintedMs });

export const EVENTS = Object.freeze({
  connection: "chatbell:connection",
  stored: "chatbell:stored",
  typing: "chatbell:typing",
  chatRead: "chatbell:chat-read",
  openChat: "chatbell:open-chat",
  settings: "chatbell:settings",
  resync: "chatbell:resync",
  storeFailed: "chatbell:store-failed",
  waiting: "chatbell:waiting",
  snoozed: "chatbell:snoozed",
  openSettings: "chatbell:open-settings",
  service: "chatbell:service",
  organization: "chatbell:organization",
});

/** Subscribes to a shell event; the handler gets the payload. Resolves to an unlisten function. */
export function on(name, handler) {
  return tauri().event.listen(name, (event) => handler(event ? event.payload : null));
}
