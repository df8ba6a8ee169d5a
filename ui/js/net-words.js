// Why the connection cannot be made, in words: the one place the page words a NetFailure
// (docs/ipc.md; the engine's `net::NetFailure`, carried by ConnState "offline" and by a failed
// `check_connection`) and a route of a CheckReport. The sentences are the engine's own
// (`chatbell_engine::i18n::net_words`, `route_words`), copied into the catalogues under
// "net.<kind>.what" / "net.<kind>.todo"; src-tauri/tests/ui_words.rs fills both for sample
// failures and fails when they differ. Placeholders are the failure's field names.

import { t } from "./i18n/index.js";

// Every NetFailure kind, each worded "net.<kind>.what" and "net.<kind>.todo" (a file's problem:
// "net.file.<problem>.…", an unknown issuer without a name: "net.<kind>_unnamed.…"); the
// contract tests compare these lines with the engine's.
const NET_KINDS = ["dns", "no_network", "refused", "timeout", "unknown_issuer", "tls_inspected", "name_mismatch", "expired", "not_yet_valid", "client_cert_required", "client_cert_refused", "tls", "proxy_unreachable", "proxy_refused", "proxy_auth_required", "proxy_auth_failed", "proxy_no_server", "proxy_failed", "http_status", "token_refused", "bad_url", "token_header", "file", "lost", "other"];
const FILE_PROBLEMS = ["missing", "unreadable", "too_large", "no_certificates", "no_key", "readable_by_others", "passphrase_needed", "wrong_passphrase"];
// Which setting names the file, each worded "net.role.<role>" ({role_label}).
const FILE_ROLES = ["ca_file", "client_cert", "client_key"];
// Where a route's proxy came from, each worded "net.source.<source>" ({source}).
const ROUTE_SOURCES = ["setting", "portal", "environment", "windows", "macos", "none"];

/** The key under which `failure` is worded (without ".what"/".todo"), or null for a kind this page does not know. */
function keyOf(failure) {
  const kind = failure?.kind;
  if (!NET_KINDS.includes(kind)) return null;
  if (kind === "file") return FILE_PROBLEMS.includes(failure.problem) ? `net.file.${failure.problem}` : null;
  if ((kind === "unknown_issuer" || kind === "tls_inspected") && !failure.issuer) return `net.${kind}_unnamed`;
  return `net.${kind}`;
}

/**
 * `{ what, todo }` for a NetFailure: what is wrong and what to do. A kind this page does not
 * know (a newer engine's) says its detail, or that the connection was lost.
 */
export function failureWords(failure) {
  const key = keyOf(failure);
  if (!key) return { what: failure?.detail ? String(failure.detail) : t("status.unknown_reason"), todo: "" };
  const params = { ...failure };
  if (failure.kind === "file") {
    params.role_label = FILE_ROLES.includes(failure.role) ? t(`net.role.${failure.role}`) : String(failure.role ?? "");
  }
  return { what: t(`${key}.what`, params), todo: t(`${key}.todo`, params) };
}

/** "direct (no proxy is set on this computer)" / "via proxy http://proxy:3128 from the desktop's settings": a CheckReport's route. */
export function routeWords(route) {
  const source = ROUTE_SOURCES.includes(route?.source) ? t(`net.source.${route.source}`) : "";
  if (!route || !route.proxy) return t("net.route.direct", { source }).trim();
  return t("net.route.via", { proxy: route.proxy, source }).trim();
}

/** "this computer's trusted certificates and /etc/corp-ca.pem": which certificates verified the server (a TrustUsed). */
export function trustWords(trust) {
  const store = trust?.store === "compiled" ? t("net.trust.compiled") : t("net.trust.system");
  return trust?.extra_ca ? t("net.trust.with_file", { store, file: trust.extra_ca }) : store;
}

/** The setting that fixes the connection's trouble (ConnState): the token when it was refused, else `fixedIn` its failure; null when online or Settings cannot help. */
export function settingToFix(connection) {
  if (connection?.state === "unauthorized") return "token";
  if (connection?.state === "offline") return fixedIn(connection.failure);
  return null;
}

/**
 * The setting that fixes `failure`, for a button that opens Settings there: "proxy_password"
 * (a secret's name), a field's path (`server.tls.ca_file`), "connection" (the section), or null
 * when Settings cannot help (the network, the server).
 */
export function fixedIn(failure) {
  switch (failure?.kind) {
    case "proxy_auth_required":
      // A proxy address without a user cannot be given a password: the address is the fix.
      return String(failure.proxy ?? "").includes("@") ? "proxy_password" : "server.proxy";
    case "proxy_auth_failed":
      return "proxy_password";
    case "file":
      if (failure.problem === "passphrase_needed" || failure.problem === "wrong_passphrase") return "key_passphrase";
      return FILE_ROLES.includes(failure.role) ? `server.tls.${failure.role}` : "connection";
    case "unknown_issuer":
    case "tls_inspected":
      return "server.tls.ca_file";
    case "client_cert_required":
    case "client_cert_refused":
      return "server.tls.client_cert";
    case "proxy_unreachable":
    case "proxy_refused":
    case "proxy_failed":
      return "server.proxy";
    case "proxy_no_server":
      return "server.url";
    case "name_mismatch":
    case "bad_url":
      return "server.url";
    case "token_header":
    case "token_refused":
      return "token";
    default:
      return null;
  }
}
