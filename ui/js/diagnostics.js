// Settings → Troubleshooting: "Test my alerts" (a sound and a sample notification now, a test to
// each forwarding target, and what would keep a real alert from the agent), whether sounds reach
// the audio device, and "Why didn't I get a notification?" (the engine's recent decisions and
// forwards). Reads only; nothing here is a setting.

import * as api from "./api.js";
import { byId, el, setText } from "./dom.js";
import { t } from "./i18n/index.js";
import { state } from "./state.js";
import { dateTime, duration, parseTime, timeOfDay } from "./time.js";
import { nameOf } from "./chat-names.js";

const MAX_DECISIONS = 200;
let refreshInfo = async () => {};

/** `refresh`: reads AppInfo again (the audio status is part of it). */
export function initDiagnostics({ refresh }) {
  refreshInfo = refresh;
  byId("test-alerts").addEventListener("click", runTest);
  byId("decisions-refresh").addEventListener("click", loadDecisions);
}

/** Reads the audio status again (with the rest of AppInfo); the "info" render shows it. */
export function refreshAudio() {
  refreshInfo().catch(() => {});
}

/** On opening the dialog: no report of an earlier test. */
export function resetDiagnostics() {
  byId("test-report").hidden = true;
}

/** The Sound line: AppInfo.audio, the engine's last word on playing. */
export function renderAudioStatus() {
  const line = byId("audio-status");
  const audio = state.info?.audio;
  line.dataset.state = audio?.state ?? "unknown";
  if (audio?.state === "working") {
    setText(line, t("audio.working", { device: audio.device ?? "" }));
  } else if (audio?.state === "failing") {
    const since = parseTime(audio.since);
    const time = since ? (since.toDateString() === new Date().toDateString() ? timeOfDay(since) : dateTime(since)) : "";
    setText(line, t("audio.failing", { time, error: audio.error ?? "" }));
  } else {
    setText(line, t("audio.unknown"));
  }
}

async function runTest() {
  const button = byId("test-alerts");
  const report = byId("test-report");
  if (button.getAttribute("aria-disabled") === "true") return;
  button.setAttribute("aria-disabled", "true");
  report.setAttribute("aria-busy", "true");
  try {
    renderAlertTest(report, await api.testAlerts());
  } catch (e) {
    report.replaceChildren(el("p", { class: "report-line is-bad", text: t("settings.test_failed", { error: e.message }) }));
  } finally {
    report.removeAttribute("aria-busy");
    report.hidden = false;
    button.removeAttribute("aria-disabled");
  }
  loadDecisions();
  refreshAudio();
}

/**
 * One list: the sound, the notification and the tray as they fared just now, then what would
 * keep a real alert from the agent (AlertTest.blockers), in words.
 */
function renderAlertTest(report, result) {
  const blockers = Array.isArray(result?.blockers) ? result.blockers : [];
  const check = (name, ok, text) => el("li", { class: ["alert-check", ok ? "is-good" : "is-bad"], data: { check: name, ok } }, [text]);

  const sound = result?.sound ?? {};
  const played = sound.played && sound.report;
  const soundText = played
    ? t("alerts.sound_played", { device: sound.report.device ?? "", ms: Math.round(Number(sound.report.first_sample_ms) || 0) })
    : t("alerts.sound_not_played", { error: sound.error || t("alerts.no_reason") });

  const n = result?.notification ?? {};
  const server = n.server ? [n.server.name, n.server.version].filter(Boolean).join(" ") : "";
  let notificationText;
  if (n.shown) notificationText = server ? t("alerts.notification_shown", { server }) : t("alerts.notification_shown_unknown");
  else notificationText = t("alerts.notification_not_shown", { error: n.error || t("alerts.no_reason") });

  const noTray = blockers.some((b) => b && b.kind === "no_tray_host");

  // One line per saved forwarding target (AlertTest.forwards); its error is the engine's sentence.
  const forwards = (Array.isArray(result?.forwards) ? result.forwards : []).map((f) => {
    const id = String(f?.id ?? "");
    const text = f?.delivered ? t("alerts.forward_delivered", { id }) : t("alerts.forward_not_delivered", { id, error: f?.error || t("alerts.no_reason") });
    return el("li", { class: ["alert-check", f?.delivered ? "is-good" : "is-bad"], data: { check: "forward", target: id, ok: Boolean(f?.delivered) } }, [text]);
  });

  const blockersItem = blockers.length
    ? el("li", { class: "alert-check alert-blockers", data: { check: "blockers", ok: false } }, [
        el("span", { text: t("alerts.blockers_title") }),
        el("ul", { class: "blockers" }, blockers.map((b) => el("li", { data: { kind: b?.kind }, text: blockerText(b) }))),
      ])
    : check("blockers", true, t("alerts.blockers_none"));

  const notes = (Array.isArray(result?.notes) ? result.notes : []).filter((n) => NOTES.includes(n?.kind));
  const noteItems = notes.map((n) => el("li", { class: ["alert-check", "alert-note"], data: { check: "note", kind: n.kind } }, [t(`note.${n.kind}`)]));

  report.replaceChildren(
    el("ul", { class: "alert-checks" }, [
      check("sound", Boolean(played), soundText),
      check("notification", Boolean(n.shown), notificationText),
      check("tray", !noTray, t(noTray ? "alerts.tray_missing" : "alerts.tray_present")),
      ...forwards,
      blockersItem,
      ...noteItems,
    ]),
  );
}

const BLOCKERS = ["no_audio", "no_notification_server", "notifications_off", "sounds_off", "do_not_disturb", "quiet_hours", "no_actions", "no_persistence", "no_tray_host"];
// What may hold alerts back where Chatbell cannot see it (AlertTest.notes): said, not failed.
const NOTES = ["focus_assist"];

/** A Blocker ({kind, ...}) in words; a kind this page does not know is shown as it came. */
function blockerText(blocker) {
  const kind = blocker?.kind;
  if (!BLOCKERS.includes(kind)) return String(kind ?? "");
  return t(`blocker.${kind}`, { error: blocker.error ?? t("alerts.no_reason"), until: blocker.until ?? "" });
}

function reasonText(reason) {
  const known = ["notifications_off", "do_not_disturb", "quiet_hours", "muted", "chat_open_and_focused", "duplicate", "snoozed", "away"];
  return known.includes(reason) ? t(`reason.${reason}`) : String(reason);
}

export async function loadDecisions() {
  const list = byId("decisions-list");
  const empty = byId("decisions-empty");
  let entries;
  try {
    entries = await api.recentDecisions();
  } catch (e) {
    list.replaceChildren(el("li", { class: "decision is-bad", text: t("settings.why_failed", { error: e.message }) }));
    empty.hidden = true;
    return;
  }
  const newestFirst = [...(entries || [])].reverse().slice(0, MAX_DECISIONS);
  list.replaceChildren(...newestFirst.map(decisionItem));
  empty.hidden = newestFirst.length > 0;
  await refreshInfo().catch(() => {});
  renderAwayNow();
}

/** Whether the agent counts as away now, where forwarding is set up: why a reminder went to the phone. */
function renderAwayNow() {
  const line = byId("why-away");
  const targets = (state.info?.settings?.notifications?.forward ?? []).filter((t) => !t.lead).map((t) => t.id);
  const away = state.info?.away;
  line.hidden = targets.length === 0 || typeof away !== "boolean";
  if (line.hidden) return;
  setText(line, away ? t("diag.away_now", { targets: targets.join(", ") }) : t("diag.here_now"));
  line.dataset.away = away ? "true" : "false";
}

function slotName(slot) {
  // Slot is {slot: "chat", user_id}, {slot: "digest"} or {slot: "waiting"} (the reminder about
  // several waiting chats); tolerate a bare user id too.
  if (slot == null) return "";
  if (typeof slot === "number") return nameOf(slot);
  if (slot.slot === "digest" || slot === "digest") return t("diag.digest");
  if (slot.slot === "waiting" || slot === "waiting") return t("diag.waiting_digest");
  if (slot.slot === "connection" || slot === "connection") return t("diag.connection");
  if (slot.slot === "away" || slot === "away") return t("diag.away_digest");
  if (slot.slot === "forward" || slot === "forward") return t("diag.forward_trouble");
  if (slot.user_id != null) return nameOf(slot.user_id);
  return "";
}

function decisionItem(d) {
  if (d.type === "forward") return forwardItem(d);
  if (d.type === "delivery") {
    const who = slotName(d.slot);
    let text;
    let tone;
    if (d.result === "shown") {
      // The reminder about waiting chats counts chats, and its summary already says how many.
      const waitingSlot = d.slot && d.slot.slot === "waiting";
      text = d.count > 1 && !waitingSlot ? t("diag.shown_count", { summary: d.summary ?? "", count: d.count }) : t("diag.shown", { summary: d.summary ?? "" });
      if (d.replaced) text += ` ${t("diag.replaced")}`;
      tone = "shown";
    } else if (d.result === "closed") {
      text = t("diag.closed");
      tone = "closed";
    } else {
      text = t("diag.failed", { error: d.error ?? "" });
      tone = "failed";
    }
    return el("li", { class: "decision", data: { outcome: tone } }, [
      el("span", { class: "decision-time" }),
      el("span", { class: "decision-chat", dir: "auto", text: who }),
      el("span", { class: "decision-text", text }),
    ]);
  }
  const at = parseTime(d.at);
  const kind = t(d.kind === "new_chat" ? "diag.kind_new_chat" : "diag.kind_new_message");
  const step = d.escalation || null;
  const parts = [kind];
  if (step) parts.push(escalationText(step));
  parts.push(outcomeText(d, step));
  return el("li", { class: "decision", data: { outcome: d.outcome, level: step ? step.level : null, step: step ? step.step : null } }, [
    el("time", { class: "decision-time", text: at ? dateTime(at) : "", attrs: { datetime: d.at } }),
    el("span", { class: "decision-chat", dir: "auto", text: `${nameOf(d.user_id)}` }),
    el("span", { class: "decision-text", text: parts.join(" — ") }),
  ]);
}

/** "Re-alert 2 · waited 4 min" or "Urgent · waited 10 min": a reminder after the first notification. */
function escalationText(step) {
  const waited = duration((Number(step.waited_secs) || 0) * 1000);
  return step.level === "urgent" ? t("diag.urgent", { duration: waited }) : t("diag.realert", { step: step.step, duration: waited });
}

// Quiet hours and Do not disturb hold a reminder: it comes when they end, if the customer still waits.
const HOLDING = ["quiet_hours", "do_not_disturb"];

function outcomeText(d, step) {
  if (d.outcome === "allowed") return t("diag.allowed");
  if (step && HOLDING.includes(d.reason)) return t("diag.held", { reason: reasonText(d.reason) });
  return t("diag.suppressed", { reason: reasonText(d.reason) });
}

/**
 * A forward (Diagnostic of type "forward"): "Forwarded to phone (reminder 2)", or "Not forwarded
 * to phone (reminder 2): <why>", the engine's sentence.
 */
function forwardItem(d) {
  const at = parseTime(d.at);
  const target = String(d.target ?? "");
  const what = forwardWhat(d);
  let text = d.delivered ? t("diag.forwarded", { target, what }) : t("diag.not_forwarded", { target, what, error: d.error || t("alerts.no_reason") });
  if (Number(d.attempts) > 1) text += ` · ${t("diag.forward_attempts", { count: d.attempts })}`;
  return el("li", { class: "decision", data: { outcome: d.delivered ? "forwarded" : "failed", event: d.event, target } }, [
    el("time", { class: "decision-time", text: at ? dateTime(at) : "", attrs: { datetime: d.at } }),
    el("span", { class: "decision-chat", text: t("diag.forward") }),
    el("span", { class: "decision-text", text }),
  ]);
}

/** What was forwarded ("reminder 2", "back online"); an event this page does not know, as it came. */
function forwardWhat(d) {
  switch (d.event) {
    case "new_chat":
      return t("diag.forward_new_chat");
    case "reminder":
      return d.step != null ? t("diag.forward_reminder", { step: d.step }) : t("diag.forward_reminder_any");
    case "urgent":
      return t("diag.forward_urgent");
    case "lead":
      return t("diag.forward_lead");
    case "offline":
      return t("diag.forward_offline");
    case "online":
      return t("diag.forward_online");
    case "test":
      return t("diag.forward_test");
    default:
      return String(d.event ?? "");
  }
}
