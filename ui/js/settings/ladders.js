// The reminder ladders (notifications.escalation): one `<template>` of index.html rendered per
// table, the general one and one per source the agent may time differently. Each copy gets its
// ids (`${prefix}-${kind}-${step}`), its labels, its error line and each input's data-field.

import { byId } from "../dom.js";
import { translateDocument } from "../i18n/index.js";
import { state } from "../state.js";
import { readNumber } from "./fields.js";

const TABLES = [
  { source: null, prefix: "setting-esc", slot: "ladder-general", error: "escalation-error" },
  { source: "telegram", prefix: "setting-esc-telegram", slot: "ladder-telegram", error: "escalation-telegram-error", caption: "settings.source_telegram" },
  { source: "widget", prefix: "setting-esc-widget", slot: "ladder-widget", error: "escalation-widget-error", caption: "settings.source_widget" },
];
const KINDS = [["new_chat", "new-chat"], ["new_message", "new-message"]];
const STEPS = [["realert_after_min", "realert"], ["every_min", "every"], ["urgent_after_min", "urgent"]];
// "Urgent after" may be left empty: the wait is then never urgent.
const OPTIONAL = "urgent_after_min";

const inputOf = (table, kindId, stepId) => byId(`${table.prefix}-${kindId}-${stepId}`);
const pathOf = (table, kind, step) => `notifications.escalation${table.source ? `.sources.${table.source}` : ""}.${kind}.${step}`;

/** Renders the tables into their places (once, at start). */
export function renderLadders() {
  const template = byId("ladder-template");
  const cell = byId("ladder-cell-template");
  for (const table of TABLES) {
    const copy = template.content.cloneNode(true);
    const caption = copy.querySelector("caption");
    const captionId = `${table.prefix}-caption`;
    if (table.caption) {
      caption.id = captionId;
      caption.dataset.i18n = table.caption;
    } else {
      caption.remove();
    }
    for (const th of copy.querySelectorAll("th[data-step]")) th.id = `${table.prefix}-col-${th.dataset.step}`;
    copy.querySelector(".field-error").id = table.error;
    for (const row of copy.querySelectorAll("tr[data-kind]")) {
      const kind = row.dataset.kind;
      const kindId = KINDS.find(([k]) => k === kind)[1];
      const rowHeader = row.querySelector("th");
      rowHeader.id = `${table.prefix}-row-${kindId}`;
      for (const [step, stepId] of STEPS) {
        const td = cell.content.firstElementChild.cloneNode(true);
        const input = td.querySelector("input");
        input.id = `${table.prefix}-${kindId}-${stepId}`;
        input.dataset.field = pathOf(table, kind, step);
        input.required = step !== OPTIONAL;
        if (step === OPTIONAL) input.dataset.i18nAttr = "placeholder:settings.urgent_never";
        const labels = [table.caption ? captionId : null, rowHeader.id, `${table.prefix}-col-${step}`].filter(Boolean);
        input.setAttribute("aria-labelledby", labels.join(" "));
        input.setAttribute("aria-describedby", table.error);
        row.append(td);
      }
    }
    const slot = byId(table.slot);
    slot.replaceChildren(copy);
    translateDocument(slot);
  }
}

/** Fills the tables: a source without timings of its own shows the general ones. */
export function fillLadders(escalation, set) {
  const sources = escalation.sources ?? {};
  for (const table of TABLES) {
    const ladders = (table.source && sources[table.source]) || escalation;
    for (const [kind, kindId] of KINDS) {
      for (const [step, stepId] of STEPS) set(inputOf(table, kindId, stepId), ladders[kind]?.[step] ?? "");
    }
  }
}

/** Whether any source has timings of its own. */
export function hasOwnTimings(escalation) {
  return TABLES.some((table) => table.source && escalation?.sources?.[table.source]);
}

/** Per-source tables start from what the general table says now, unless already edited. */
export function seedSourceTables(isDirty) {
  const general = TABLES[0];
  for (const table of TABLES) {
    if (!table.source || state.settings?.notifications?.escalation?.sources?.[table.source]) continue;
    for (const [, kindId] of KINDS) {
      for (const [, stepId] of STEPS) {
        const input = inputOf(table, kindId, stepId);
        if (!isDirty(input.id)) input.value = inputOf(general, kindId, stepId).value;
      }
    }
  }
}

function readLadder(table, kindId) {
  const ladder = {};
  for (const [step, stepId] of STEPS) ladder[step] = readNumber(inputOf(table, kindId, stepId), { optional: step === OPTIONAL });
  return ladder;
}

/** The tables into `escalation` (its sources' own only with `perSource`). */
export function collectLadders(escalation, perSource) {
  const sources = { ...(escalation.sources ?? {}) };
  for (const table of TABLES) {
    if (!table.source) {
      for (const [kind, kindId] of KINDS) escalation[kind] = readLadder(table, kindId);
    } else if (perSource) {
      const own = {};
      for (const [kind, kindId] of KINDS) own[kind] = readLadder(table, kindId);
      sources[table.source] = own;
    } else {
      delete sources[table.source];
    }
  }
  escalation.sources = sources;
}
