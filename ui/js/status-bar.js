// The connection, in words. Online is quiet (the bar collapses); anything else says what is
// happening and offers the one action that helps. Offline says the failure's cause and what to
// do about it (net-words.js); where a setting fixes it, a button opens Settings → Connection at
// that setting (the proxy password for a proxy that wants one).

import * as api from "./api.js";
import { byId, setHidden, setText } from "./dom.js";
import { t } from "./i18n/index.js";
import { state, subscribe } from "./state.js";
import { secondsUntil } from "./time.js";
import { showToast, storeProblemWords } from "./banners.js";
import { failureWords, settingToFix } from "./net-words.js";

let bar, textEl, todoEl, announceEl, retryBtn, settingsBtn, proxyPasswordBtn, setupBtn, demoBtn, demoBadge;
let ticker = 0;
let handlers = { openSettings: () => {}, startDemo: () => {} };

export function initStatusBar(actions) {
  handlers = { ...handlers, ...actions };
  bar = byId("status-bar");
  textEl = byId("status-text");
  todoEl = byId("status-todo");
  announceEl = byId("status-announce");
  retryBtn = byId("status-retry");
  settingsBtn = byId("status-settings");
  proxyPasswordBtn = byId("status-proxy-password");
  setupBtn = byId("status-setup");
  demoBtn = byId("status-demo");
  demoBadge = byId("demo-badge");

  retryBtn.addEventListener("click", async () => {
    retryBtn.disabled = true;
    try {
      await api.reconnectNow();
    } catch (e) {
      showToast(t("errors.command", { error: e.message }));
    } finally {
      retryBtn.disabled = false;
    }
  });
  // At the setting the failure names, if any (the token for a refused token).
  settingsBtn.addEventListener("click", () => handlers.openSettings("connection", settingToFix(state.connection)));
  proxyPasswordBtn.addEventListener("click", () => handlers.openSettings("connection", "proxy_password"));
  setupBtn.addEventListener("click", () => handlers.openSettings("connection"));
  demoBtn.addEventListener("click", () => handlers.startDemo());

  subscribe("connection", renderStatusBar);
  subscribe("info", renderStatusBar);
  subscribe("lang", renderStatusBar);
  subscribe("banners", renderStatusBar);
}

export function renderStatusBar(s) {
  const c = s.connection || { state: "connecting" };
  bar.dataset.state = c.state;
  setHidden(demoBadge, !(s.info && s.info.mode === "demo"));

  const fix = settingToFix(c);
  setHidden(retryBtn, c.state !== "offline");
  setHidden(proxyPasswordBtn, fix !== "proxy_password");
  setHidden(settingsBtn, fix == null || fix === "proxy_password");
  setHidden(setupBtn, c.state !== "not_configured");
  setHidden(demoBtn, c.state !== "not_configured");

  clearInterval(ticker);
  ticker = 0;
  if (c.state === "offline" || c.state === "unauthorized") {
    ticker = setInterval(() => setText(textEl, describe(state.connection)), 1000);
  }
  setText(textEl, describe(c));
  const todo = c.state === "offline" ? failureWords(c.failure).todo : "";
  setText(todoEl, todo);
  setHidden(todoEl, todo === "");
  // The visible line counts down every second; screen readers hear each state once.
  setText(announceEl, [describe(c, { countdown: false }), todo].filter(Boolean).join(" "));
}

function describe(c, { countdown = true } = {}) {
  switch (c.state) {
    case "online":
      return t("status.online");
    case "connecting":
      return c.attempt > 1 ? t("status.connecting_attempt", { count: c.attempt }) : t("status.connecting");
    case "offline": {
      const seconds = secondsUntil(c.retry_at);
      const what = failureWords(c.failure).what;
      return seconds > 0 && countdown ? t("status.offline", { what, count: seconds }) : t("status.offline_now", { what });
    }
    case "unauthorized":
      return t("status.unauthorized", { status: c.status ?? 401 });
    case "not_configured":
      return t("status.not_configured");
    case "stopped": {
      // Stopped because the database cannot be used: the banner's reason, in short.
      const problem = state.banners.storeProblem;
      return problem ? t("store_problem.status", { what: storeProblemWords(problem.reason).what }) : t("status.stopped");
    }
    default:
      return "";
  }
}
