// Non-blocking messages: the one-time tray hint, the shell's notice, disk write failures, a
// session that could not start because of its database, an organization's settings file set
// aside, and short toasts for failed commands.
// None of them steals focus.

import * as api from "./api.js";
import { byId, setHidden, setText } from "./dom.js";
import { t } from "./i18n/index.js";
import { problemText } from "./problems.js";
import { setBanner, setInfo, state, subscribe } from "./state.js";

const TOAST_MS = 5000;
let toastEl;
let toastTimer = 0;

// Every StoreReason of docs/ipc.md; each has words "store_problem.<reason>.what" (what
// happened) and ".todo" (what to do). The contract tests compare this line with the shell's.
const STORE_REASONS = ["in_use", "locked", "corrupt", "too_new", "foreign", "missing", "folder", "disk_full", "sql"];

/**
 * The words for a store error: { what, todo } by its reason; a reason this page does not know
 * (a newer shell) gets the generic ones. The one place a store reason is worded: the banner, the
 * status bar and the chat list all say it through here.
 */
export function storeProblemWords(reason) {
  const known = STORE_REASONS.includes(reason) ? reason : "sql";
  return { what: t(`store_problem.${known}.what`), todo: t(`store_problem.${known}.todo`) };
}

/**
 * Shows why the session could not start (an ApiError of kind "store"): its reason and file;
 * null hides it. The error's message (English, with command-line advice) is for the log.
 */
export function setStoreProblem(error) {
  if (error) console.warn("the session could not start:", error.message);
  setBanner("storeProblem", error ? { reason: error.reason, path: error.path } : null);
}

// Every OrgProblem kind of docs/ipc.md, each worded "org_problem.<kind>"; the contract tests
// compare this line with the engine's.
const ORG_PROBLEMS = ["unreadable", "not_a_file", "too_large", "not_json", "shape", "token", "setting"];

/** What is wrong with the organization's file (an OrgProblem), in the agent's words. */
export function orgProblemWords(problem) {
  const kind = ORG_PROBLEMS.includes(problem?.kind) ? problem.kind : "unreadable";
  if (kind === "setting") return t("org_problem.setting", { field: problem.field, problem: problemText(problem.problem) ?? "" });
  return t(`org_problem.${kind}`, { line: problem.line, column: problem.column, field: problem.field ?? "" });
}

// The OrganizationInfo whose problem the banner last said: the same info notified again (a new
// language, the first load's second look) does not bring a dismissed banner back.
let announced = null;

/**
 * The organization's file is set aside: said once in the banner (the resident marks the first
 * telling `announce`), hidden when the file is fixed.
 */
function followOrganization(info) {
  const org = info.organization;
  if (!org || !org.problem) {
    if (state.banners.orgProblem) setBanner("orgProblem", null);
  } else if (org.announce && org !== announced) {
    announced = org;
    setBanner("orgProblem", { path: org.path, problem: org.problem });
  }
}

export function initBanners({ retryStart = async () => {} } = {}) {
  toastEl = byId("toast");
  const retry = byId("store-problem-retry");
  retry.addEventListener("click", async () => {
    retry.disabled = true;
    try {
      await retryStart();
    } finally {
      retry.disabled = false;
    }
  });
  byId("tray-hint-dismiss").addEventListener("click", dismissTrayHint);
  byId("notice-dismiss").addEventListener("click", () => setBanner("notice", null));
  byId("store-error-dismiss").addEventListener("click", () => setBanner("storeError", null));
  byId("org-problem-dismiss").addEventListener("click", () => setBanner("orgProblem", null));
  subscribe("banners", renderBanners);
  subscribe("lang", renderBanners);
  subscribe("info", (s) => {
    const info = s.info;
    if (!info) return;
    followOrganization(info);
    const wantsHint = info.tray_available === false && !info.settings?.ui?.tray_hint_shown;
    if (wantsHint !== s.banners.trayHint) setBanner("trayHint", wantsHint);
  });
}

export function renderBanners(s) {
  setHidden(byId("tray-hint"), !s.banners.trayHint);
  setHidden(byId("service-lost"), !s.banners.serviceLost);
  setHidden(byId("notice-banner"), !s.banners.notice);
  setText(byId("notice-text"), s.banners.notice || "");
  setHidden(byId("store-error"), !s.banners.storeError);
  setText(byId("store-error-text"), s.banners.storeError || "");
  const org = s.banners.orgProblem;
  setHidden(byId("org-problem"), !org);
  setText(byId("org-problem-text"), org ? t("org_problem.text", { path: org.path, what: orgProblemWords(org.problem) }) : "");
  const problem = s.banners.storeProblem;
  setHidden(byId("store-problem"), !problem);
  const words = problem ? storeProblemWords(problem.reason) : { what: "", todo: "" };
  setText(byId("store-problem-what"), words.what);
  setText(byId("store-problem-todo"), words.todo);
  setText(byId("store-problem-detail"), problem?.path ? t("store_problem.file", { path: problem.path }) : "");
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
