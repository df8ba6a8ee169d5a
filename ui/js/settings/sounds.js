// Settings → Notifications → Sounds: the tone of each kind of alert, the volume, and ▶ to hear
// a tone as the form has it, before it is saved.

import * as api from "../api.js";
import { byId, el, setText } from "../dom.js";
import { t } from "../i18n/index.js";

// The tones, in the engine's order (`sound::Tone::ALL`), and the select of each kind of alert
// that plays one. "off" stands for null: that kind plays no sound.
const TONES = ["chime", "bell", "pop", "knock", "alarm"];
const SOUND_KINDS = [["new_chat", "setting-sound-new-chat"], ["new_message", "setting-sound-new-message"], ["escalation", "setting-sound-escalation"]];
export const OFF = "off";

let volume, volumeValue;
let afterPlay = () => {};

/** `onPlayed`: after ▶ (the audio status may have changed). */
export function initSounds(dialog, { onPlayed }) {
  afterPlay = onPlayed;
  volume = byId("setting-volume");
  volumeValue = byId("setting-volume-value");
  for (const [, id] of SOUND_KINDS) fillToneSelect(byId(id));
  for (const button of dialog.querySelectorAll("[data-preview]")) button.addEventListener("click", () => previewSound(button));
  dialog.addEventListener("change", (e) => {
    if (e.target.classList.contains("tone-select")) clearPreviewResult(e.target);
  });
}

/** On opening the dialog: no result of an earlier ▶. */
export function resetSounds() {
  for (const [, id] of SOUND_KINDS) clearPreviewResult(byId(id));
}

export function fillSounds(sounds = {}, set, isDirty) {
  for (const [kind, id] of SOUND_KINDS) {
    const select = byId(id);
    if (isDirty(id)) continue;
    const tone = sounds[kind] ?? OFF;
    // A tone this page does not know (a newer engine's) stays chosen, under its own name.
    ensureOption(select, tone, () => tone);
    set(select, tone);
  }
  set(volume, sounds.volume ?? volume.value);
}

export function collectSounds(sounds) {
  const out = { ...(sounds ?? {}) };
  for (const [kind, id] of SOUND_KINDS) {
    const tone = byId(id).value;
    out[kind] = tone === OFF ? null : tone;
  }
  out.volume = Number(volume.value);
  return out;
}

export function syncSounds(dialog) {
  for (const button of dialog.querySelectorAll("[data-preview]")) button.disabled = byId(button.dataset.preview).value === OFF;
  const words = t("settings.volume_value", { value: volume.value });
  setText(volumeValue, words);
  volume.setAttribute("aria-valuetext", words);
}

function fillToneSelect(select) {
  const options = [OFF, ...TONES].map((tone) => {
    const key = tone === OFF ? "settings.tone_off" : `tone.${tone}`;
    // data-i18n: translateDocument relabels them with the rest of the page.
    return el("option", { text: t(key), data: { i18n: key }, attrs: { value: tone } });
  });
  select.replaceChildren(...options);
}

/**
 * Makes sure `select` offers `value`: a value it does not list gets an option of its own
 * (marked data-extra, labelled by `label()`); extra options for other values go.
 */
export function ensureOption(select, value, label) {
  for (const option of select.querySelectorAll("option[data-extra]")) {
    if (option.value !== value) option.remove();
  }
  if ([...select.options].some((o) => o.value === value)) return;
  select.append(el("option", { text: label(), data: { extra: "true" }, attrs: { value } }));
}

function previewResult(select) {
  return byId(`${select.id.replace("setting-", "preview-")}-result`);
}

function clearPreviewResult(select) {
  const result = previewResult(select);
  setText(result, "");
  delete result.dataset.state;
}

/**
 * Plays the kind's chosen tone at the slider's volume (both as in the form, unsaved) and says
 * where it played, or why it did not. The button stays focusable while it plays: it is marked
 * aria-disabled and ignores presses, so the keyboard focus is not thrown out.
 */
async function previewSound(button) {
  if (button.getAttribute("aria-disabled") === "true") return;
  const select = byId(button.dataset.preview);
  const tone = select.value;
  if (tone === OFF) return;
  const result = previewResult(select);
  button.setAttribute("aria-disabled", "true");
  result.dataset.state = "busy";
  setText(result, t("settings.sound_playing"));
  try {
    const report = await api.previewSound(tone, Number(volume.value));
    result.dataset.state = "ok";
    setText(result, t("settings.sound_played", { device: report?.device ?? "" }));
  } catch (e) {
    result.dataset.state = "error";
    setText(result, t("settings.sound_failed", { error: e.message }));
  } finally {
    button.removeAttribute("aria-disabled");
  }
  afterPlay();
}
