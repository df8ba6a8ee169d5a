// Every node the UI builds goes through here, so there is exactly one place that decides how
// strings reach the DOM: as text, never as markup.

const FORBIDDEN_ATTR = /^(on|style$|srcdoc$|href$|src$|xlink:href$|formaction$)/i;

/**
 * Creates an element.
 * opts: { class, text, data, attrs, on, dir }
 * children: nodes or strings (strings become text nodes).
 */
export function el(tag, opts = {}, children = []) {
  const node = document.createElement(tag);
  if (opts.class) {
    node.className = Array.isArray(opts.class) ? opts.class.filter(Boolean).join(" ") : opts.class;
  }
  if (opts.dir) node.dir = opts.dir;
  if (opts.text != null) node.textContent = String(opts.text);
  if (opts.data) {
    for (const [key, value] of Object.entries(opts.data)) {
      if (value != null) node.dataset[key] = String(value);
    }
  }
  if (opts.attrs) setAttrs(node, opts.attrs);
  if (opts.on) {
    for (const [type, handler] of Object.entries(opts.on)) node.addEventListener(type, handler);
  }
  for (const child of children) {
    if (child == null || child === false) continue;
    node.append(child);
  }
  return node;
}

/** Sets attributes; refuses the ones that could run code, load a URL or carry inline style. */
export function setAttrs(node, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (FORBIDDEN_ATTR.test(name)) throw new Error(`dom: refusing attribute ${name}`);
    if (value === false || value == null) node.removeAttribute(name);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
}

/** Writes only when it changed, so live updates do not churn layout or screen readers. */
export function setText(node, text) {
  const value = text == null ? "" : String(text);
  if (node.textContent !== value) node.textContent = value;
}

export function setHidden(node, hidden) {
  if (node.hidden !== Boolean(hidden)) node.hidden = Boolean(hidden);
}

export function toggleClass(node, cls, on) {
  if (node.classList.contains(cls) !== Boolean(on)) node.classList.toggle(cls, Boolean(on));
}

export function setData(node, key, value) {
  const v = value == null ? undefined : String(value);
  if (v === undefined) {
    if (key in node.dataset) delete node.dataset[key];
  } else if (node.dataset[key] !== v) {
    node.dataset[key] = v;
  }
}

export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`dom: #${id} is missing from index.html`);
  return node;
}

/**
 * Makes `parent`'s children exactly `nodes`, in order, moving only what is out of place.
 * A prepend or a single move costs a handful of DOM operations, not a rebuild.
 */
export function reconcileChildren(parent, nodes) {
  let cursor = parent.firstChild;
  for (const node of nodes) {
    if (node === cursor) {
      cursor = cursor.nextSibling;
    } else {
      parent.insertBefore(node, cursor);
    }
  }
  while (cursor) {
    const next = cursor.nextSibling;
    parent.removeChild(cursor);
    cursor = next;
  }
}

/** The last segment of a path, for attachment labels (both separators: the sender chose). */
export function fileName(path) {
  if (!path) return "";
  const parts = String(path).split(/[\\/]/).filter(Boolean);
  return parts.length ? parts[parts.length - 1] : String(path);
}

/** Up to two initials, counted in code points so emoji and non-Latin names stay whole. */
export function initials(name) {
  const words = String(name ?? "")
    .replace(/[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "")
    .replace(/^[@#]/, "")
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  const first = (w) => (w ? Array.from(w)[0] : "");
  const letters = words.length > 1 ? first(words[0]) + first(words[1]) : Array.from(words[0] ?? "?").slice(0, 1).join("");
  return letters.toLocaleUpperCase() || "?";
}
