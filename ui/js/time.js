// Dates and times in the chosen language. The shell sends RFC 3339 UTC; everything shown is
// local time. Formatters are cached: the chat list formats hundreds of times per render.

import { currentLocale, t } from "./i18n/index.js";

const formatters = new Map();

function formatter(options) {
  const key = currentLocale() + JSON.stringify(options);
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(currentLocale(), options);
    formatters.set(key, f);
  }
  return f;
}

export function parseTime(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

function startOfDay(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}

/** Whole calendar days from `d` to `now` (0 = today), by local dates, not 24-hour spans. */
export function daysAgo(d, now = new Date()) {
  return Math.round((startOfDay(now) - startOfDay(d)) / 86_400_000);
}

export function dayKey(d) {
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

export function timeOfDay(d) {
  return d ? formatter({ hour: "numeric", minute: "2-digit" }).format(d) : "";
}

/** Chat list: a time today, "Yesterday", a weekday this week, else a short date. */
export function listTime(d, now = new Date()) {
  if (!d) return "";
  const days = daysAgo(d, now);
  if (days <= 0) return timeOfDay(d);
  if (days === 1) return t("time.yesterday");
  if (days < 7) return formatter({ weekday: "short" }).format(d);
  if (d.getFullYear() === now.getFullYear()) return formatter({ day: "numeric", month: "short" }).format(d);
  return formatter({ day: "numeric", month: "short", year: "numeric" }).format(d);
}

/** Day dividers in a chat. */
export function dayLabel(d, now = new Date()) {
  const days = daysAgo(d, now);
  if (days === 0) return t("time.today");
  if (days === 1) return t("time.yesterday");
  if (d.getFullYear() === now.getFullYear()) {
    return formatter({ weekday: "long", day: "numeric", month: "long" }).format(d);
  }
  return formatter({ day: "numeric", month: "long", year: "numeric" }).format(d);
}

export function dateTime(d) {
  return d ? formatter({ dateStyle: "medium", timeStyle: "short" }).format(d) : "";
}

export function fullDateTime(d) {
  return d ? formatter({ dateStyle: "full", timeStyle: "medium" }).format(d) : "";
}

/** "14:05–14:20", or with dates when the span crosses midnight or is not today. */
export function timeRange(from, to, now = new Date()) {
  if (!from || !to) return "";
  if (dayKey(from) === dayKey(to)) {
    const prefix = daysAgo(from, now) === 0 ? "" : `${formatter({ day: "numeric", month: "short" }).format(from)} `;
    return `${prefix}${timeOfDay(from)}–${timeOfDay(to)}`;
  }
  return `${dateTime(from)} – ${dateTime(to)}`;
}

/** A moment ahead or behind, as briefly as is unambiguous: "14:05" today, else with the date. */
export function timeOrDate(d, now = new Date()) {
  if (!d) return "";
  return dayKey(d) === dayKey(now) ? timeOfDay(d) : dateTime(d);
}

/**
 * How long, in whole units and rounded down: "<1 min", "7 min", "1 h 5 min", "2 d 3 h".
 * Rounded down so that "waiting 3 min" never claims a minute the customer has not waited yet.
 */
export function duration(ms) {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return t("duration.under_minute");
  if (minutes < 60) return t("duration.minutes", { count: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    const rest = minutes % 60;
    return rest ? t("duration.hours_minutes", { hours, minutes: rest }) : t("duration.hours", { hours });
  }
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return rest ? t("duration.days_hours", { days, hours: rest }) : t("duration.days", { days });
}

export function secondsUntil(iso, now = Date.now()) {
  const d = parseTime(iso);
  return d ? Math.max(0, Math.ceil((d.getTime() - now) / 1000)) : 0;
}

/** Milliseconds to the next local midnight (plus a second, so "today" has surely rolled over). */
export function msToMidnight(now = new Date()) {
  const next = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 0, 0, 1);
  return next - now;
}
