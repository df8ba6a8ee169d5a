// What is wrong with a setting's value, in the agent's words: the one place a Problem
// (docs/ipc.md; the engine's settings::Problem, sent with the field in a "setting" error) is
// worded. The page's own checks before saving make the same problems, so a value reads the same
// whether the page or the engine refused it.

import { currentLocale, t } from "./i18n/index.js";

// Every Problem kind of docs/ipc.md, each worded "problem.<kind>"; the contract tests compare this
// line with the engine's.
const PROBLEMS = ["out_of_range", "too_many", "too_long", "not_a_name", "not_a_source_name", "same_times", "same_name", "spaces", "scheme", "no_host", "credentials", "not_an_address", "placeholder_in_host", "unknown_placeholder", "unclosed", "unopened", "not_a_proxy", "proxy_password", "not_absolute", "key_without_certificate", "locked", "no_such_setting", "wrong_type", "not_applied"];
// Every Unit, each worded "unit.<unit>" (a plural entry, by the number it follows).
const UNITS = ["minutes", "seconds", "days", "percent", "characters", "user_ids", "muted_chats", "sources", "targets", "steps"];

/** "https:// or http://", in the page's language. */
function oneOf(items) {
  const list = Array.isArray(items) ? items.map(String) : [];
  try {
    return new Intl.ListFormat(currentLocale(), { type: "disjunction" }).format(list);
  } catch {
    return list.join(" / ");
  }
}

function unitWord(unit, count) {
  return UNITS.includes(unit) ? t(`unit.${unit}`, { count }) : "";
}

/**
 * The sentence for `problem`; `optional`: the field may also be left empty. A kind this page
 * does not know (a newer engine's) is null: the caller shows the error's English message.
 */
export function problemText(problem, { optional = false } = {}) {
  const kind = problem?.kind;
  if (!PROBLEMS.includes(kind)) return null;
  const { min, max } = problem;
  switch (kind) {
    case "out_of_range":
      return t(optional ? "problem.out_of_range_or_empty" : "problem.out_of_range", { min, max, unit: unitWord(problem.unit, max) });
    case "too_many":
      return t("problem.too_many", { max, unit: unitWord(problem.unit, max) });
    case "too_long":
      return t("problem.too_long", { max, unit: unitWord("characters", max) });
    case "scheme":
      return t("problem.scheme", { expected: oneOf(problem.expected) });
    default:
      return t(`problem.${kind}`, { min, max, name: problem.name ?? "", why: problem.why ?? "", error: problem.error ?? "" });
  }
}

/** A refused setting's words: its problem's, else the error's own message. */
export function errorText(error, options) {
  return (error?.problem && problemText(error.problem, options)) || error?.message || String(error);
}

/** The problem of a number outside `bounds` (AppInfo.limits' { min, max, unit }). */
export function outOfRange(bounds) {
  return { kind: "out_of_range", min: bounds.min, max: bounds.max, unit: bounds.unit };
}
