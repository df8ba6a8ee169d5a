// Settings → Notifications: whether and how Chatbell alerts (privacy, do not disturb, quiet
// hours, the offline warning), its sounds (sounds.js), the reminders while a customer waits
// (ladders.js), the snooze's length, the list's order, where alerts go when the agent is away
// (away.js), and the muted chats (unmuted at once, not part of the draft).

import * as api from "../api.js";
import { byId, el, setHidden, setText } from "../dom.js";
import { t } from "../i18n/index.js";
import { isMuted, setSettings, state } from "../state.js";
import { dateTime, parseTime, timeOfDay } from "../time.js";
import { showToast } from "../banners.js";
import { nameOf } from "../chat-names.js";
import { FieldError, readNumber } from "./fields.js";
import { collectLadders, fillLadders, hasOwnTimings, renderLadders, seedSourceTables } from "./ladders.js";
import { OFF, collectSounds, ensureOption, fillSounds, initSounds, syncSounds } from "./sounds.js";
import { collectAway, fillAway, initAway, relabelAway, resetAway, syncAway } from "./away.js";

let f = {};
let dialog;

/**
 * `refresh`: reads AppInfo again (after a sound played, the audio status may differ; after a
 * forwarding secret is saved); `showFieldError(path, message)`: the form's; `edited(id)`: the
 * draft changed without an input event.
 */
export function initNotifications(d, { refresh, isDirty, showFieldError, edited }) {
  dialog = d;
  f = {
    enabled: byId("setting-notifications"),
    sound: byId("setting-sound"),
    privacy: byId("setting-privacy"),
    dnd: byId("setting-dnd"),
    quiet: byId("setting-quiet"),
    quietTimes: byId("quiet-times"),
    quietStart: byId("setting-quiet-start"),
    quietEnd: byId("setting-quiet-end"),
    quietNewChats: byId("setting-quiet-new-chats"),
    quietNewChatsField: byId("quiet-new-chats-field"),
    escalation: byId("setting-escalation"),
    escalationSettings: byId("escalation-settings"),
    perSource: byId("setting-escalation-per-source"),
    sources: byId("escalation-sources"),
    snoozeMinutes: byId("setting-snooze-minutes"),
    sortByWait: byId("setting-sort-by-wait"),
    offlineAlert: byId("setting-offline-alert"),
  };
  renderLadders();
  initSounds(dialog, { onPlayed: () => dialog.open && refresh().catch(() => {}) });
  dialog.addEventListener("change", (e) => {
    if (e.target === f.perSource && f.perSource.checked) seedSourceTables(isDirty);
  });
  initAway(dialog, { refresh, showFieldError, edited });
  byId("muted-list").addEventListener("click", onUnmute);
}

/** On opening the dialog, before it is filled. */
export function resetNotifications() {
  resetAway();
}

export function fillNotifications(settings, set, isDirty) {
  const n = settings.notifications;
  set(f.enabled, n.enabled);
  set(f.sound, n.sound);
  fillSounds(n.sounds, set, isDirty);
  if (!isDirty(f.offlineAlert.id)) {
    const secs = n.offline_alert_secs;
    const value = secs == null ? OFF : String(secs);
    // A saved time the list does not offer is shown as one more choice, not lost.
    ensureOption(f.offlineAlert, value, () => offlineLabel(secs));
    set(f.offlineAlert, value);
  }
  set(f.privacy, n.privacy);
  set(f.dnd, n.do_not_disturb);
  set(f.quiet, n.quiet_hours != null);
  set(f.quietStart, n.quiet_hours ? n.quiet_hours.start : "22:00");
  set(f.quietEnd, n.quiet_hours ? n.quiet_hours.end : "08:00");
  set(f.quietNewChats, n.quiet_hours_allow_new_chats);
  const esc = n.escalation ?? {};
  set(f.escalation, esc.enabled);
  set(f.perSource, hasOwnTimings(esc));
  fillLadders(esc, set);
  set(f.snoozeMinutes, n.snooze_minutes);
  set(f.sortByWait, settings.ui.sort_by_wait);
  fillAway(n, set, isDirty);
}

export function collectNotifications(settings) {
  const n = settings.notifications;
  n.enabled = f.enabled.checked;
  n.sound = f.sound.checked;
  n.sounds = collectSounds(n.sounds);
  n.offline_alert_secs = f.offlineAlert.value === OFF ? null : Number(f.offlineAlert.value);
  n.privacy = f.privacy.checked;
  n.do_not_disturb = f.dnd.checked;
  if (f.quiet.checked) {
    const start = f.quietStart.value.slice(0, 5);
    const end = f.quietEnd.value.slice(0, 5);
    if (!/^\d\d:\d\d$/.test(start) || !/^\d\d:\d\d$/.test(end)) throw new FieldError("notifications.quiet_hours", t("settings.err_quiet_times"));
    // Start = end is refused by the engine (problem same_times), worded where it names the field.
    n.quiet_hours = { start, end };
  } else {
    n.quiet_hours = null;
  }
  n.quiet_hours_allow_new_chats = f.quietNewChats.checked;

  // With reminders off the tables are hidden: what they hold is kept as saved, not checked.
  const esc = n.escalation ?? {};
  esc.enabled = f.escalation.checked;
  if (esc.enabled) collectLadders(esc, f.perSource.checked);
  n.escalation = esc;
  n.snooze_minutes = readNumber(f.snoozeMinutes);
  settings.ui.sort_by_wait = f.sortByWait.checked;
  collectAway(n);
}

export function syncNotifications() {
  setHidden(f.quietTimes, !f.quiet.checked);
  setHidden(f.quietNewChatsField, !f.quiet.checked);
  f.sound.disabled = !f.enabled.checked;
  f.privacy.disabled = !f.enabled.checked;
  syncSounds(dialog);
  setHidden(f.escalationSettings, !f.escalation.checked);
  setHidden(f.sources, !f.perSource.checked);
  syncAway();
}

/** The language changed: what this section words itself. */
export function relabelNotifications() {
  for (const option of f.offlineAlert.querySelectorAll("option[data-extra]")) setText(option, offlineLabel(option.value));
  relabelAway();
  renderMuted();
}

/** "45 s", "15 min": a saved offline warning time the list does not offer. */
function offlineLabel(secs) {
  const n = Number(secs);
  return n % 60 === 0 ? t("settings.offline_minutes", { count: n / 60 }) : t("settings.offline_seconds", { count: n });
}

/* ---- muted chats ---- */

export function renderMuted() {
  const list = byId("muted-list");
  const mutes = state.settings?.notifications?.mutes ?? {};
  const now = Date.now();
  const items = [];
  const again = () => dialog.open && renderMuted();
  for (const [key, until] of Object.entries(mutes)) {
    const userId = Number(key);
    if (!isMuted(userId, now)) continue;
    const end = parseTime(until);
    const when = until == null ? t("mute.muted_forever") : t("mute.muted_until", { time: end && end.toDateString() === new Date().toDateString() ? timeOfDay(end) : dateTime(end) });
    const name = nameOf(userId, again);
    items.push(
      el("li", { class: "muted-item" }, [
        el("span", { class: "muted-name", dir: "auto", text: name }),
        el("span", { class: "muted-until", text: when }),
        el("button", {
          class: "btn btn-small",
          text: t("mute.unmute"),
          data: { unmute: userId },
          attrs: { type: "button", "aria-label": t("mute.unmute_named", { name }) },
        }),
      ]),
    );
  }
  list.replaceChildren(...items);
  setHidden(byId("muted-empty"), items.length > 0);
}

async function onUnmute(e) {
  const button = e.target.closest("[data-unmute]");
  if (!button) return;
  button.disabled = true;
  try {
    setSettings(await api.unmuteChat(Number(button.dataset.unmute)));
  } catch (err) {
    button.disabled = false;
    showToast(t("errors.command", { error: err.message }));
  }
}
