//! A minimal W3C WebDriver client: what the end-to-end tests need (sessions, elements,
//! clicks, keys, text, scripts, screenshots) and nothing more.

use std::io;
use std::time::Duration;

use serde_json::{Value, json};
use ureq::http;

use crate::wait::try_eventually_blocking;

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Long enough for a slow script or a screenshot on a loaded CI machine.
const TIMEOUT: Duration = Duration::from_secs(120);
/// ureq's default body limit (10 MB) could cut off the screenshot of a large window.
const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug)]
pub struct WebDriverError(pub String);

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why one command failed; the first two mean it never ran, so it may be sent again.
enum Failure {
    /// Nothing listens on the port (yet).
    Refused(WebDriverError),
    /// The driver closed the connection without answering.
    Unanswered(WebDriverError),
    Failed(WebDriverError),
}

impl From<Failure> for WebDriverError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Refused(e) | Failure::Unanswered(e) | Failure::Failed(e) => e,
        }
    }
}

/// One command. tauri-driver sometimes forwards a command over a pooled connection that
/// WebKitWebDriver has already closed; it then answers nothing and the command never reached
/// the browser, so it is sent again (a few times, briefly apart).
fn http(
    agent: &ureq::Agent,
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, Failure> {
    let mut attempt = 0;
    loop {
        match http_once(agent, port, method, path, body) {
            Err(Failure::Unanswered(_)) if attempt < 5 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

fn http_once(
    agent: &ureq::Agent,
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, Failure> {
    let error = |e: &dyn std::fmt::Display| WebDriverError(format!("{method} {path}: {e}"));
    let failed = |e: &dyn std::fmt::Display| Failure::Failed(error(e));
    let request = http::Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:{port}{path}"))
        .header(
            http::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )
        .body(body.map(Value::to_string).unwrap_or_default())
        .map_err(|e| failed(&e))?;
    let mut response = agent.run(request).map_err(|e| match &e {
        ureq::Error::Io(io) => match io.kind() {
            io::ErrorKind::ConnectionRefused => Failure::Refused(error(&e)),
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted => {
                Failure::Unanswered(error(&format_args!("no HTTP response: {e}")))
            }
            _ => failed(&e),
        },
        _ => failed(&e),
    })?;
    let status = response.status();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY_BYTES)
        .read_to_vec()
        .map_err(|e| failed(&e))?;
    answer(status, &body).map_err(|e| failed(&e))
}

/// The `value` of a command's answer, or why the command failed.
fn answer(status: http::StatusCode, body: &[u8]) -> Result<Value, String> {
    let json: Value = serde_json::from_slice(body)
        .map_err(|e| format!("{status}: {e}: {}", String::from_utf8_lossy(body)))?;
    // The spec's error answer: `{"value": {"error": code, "message": text, ...}}`.
    if let Some(error) = json["value"]["error"].as_str() {
        let message = json["value"]["message"].as_str().unwrap_or_default();
        return Err(format!("{error}: {message}"));
    }
    if !status.is_success() {
        return Err(format!("{status}: {json}"));
    }
    Ok(json["value"].clone())
}

/// One WebDriver session.
pub struct WebDriver {
    agent: ureq::Agent,
    port: u16,
    session: String,
}

/// An element found on the page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl WebDriver {
    /// Waits for the driver on `port`, then creates a session with these capabilities.
    pub fn connect(
        port: u16,
        capabilities: Value,
        timeout: Duration,
    ) -> Result<WebDriver, WebDriverError> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            // WebDriver errors come as JSON with any status; they are read, not thrown away.
            .http_status_as_error(false)
            .build()
            .into();
        let body = json!({ "capabilities": capabilities });
        // Refused: the driver is not listening yet; any other failure ends the wait.
        let created = try_eventually_blocking("a WebDriver session", timeout, || {
            match http(&agent, port, "POST", "/session", Some(&body)) {
                Err(Failure::Refused(e)) => Err(e),
                other => Ok(other),
            }
        })
        .map_err(|e| WebDriverError(e.to_string()))??;
        let session = created["sessionId"]
            .as_str()
            .ok_or_else(|| WebDriverError(format!("no session id: {created}")))?
            .to_string();
        Ok(WebDriver {
            agent,
            port,
            session,
        })
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, WebDriverError> {
        http(
            &self.agent,
            self.port,
            method,
            &format!("/session/{}{path}", self.session),
            body,
        )
        .map_err(WebDriverError::from)
    }

    pub fn find(&self, css: &str) -> Result<Element, WebDriverError> {
        let v = self.call(
            "POST",
            "/element",
            Some(&json!({ "using": "css selector", "value": css })),
        )?;
        v[ELEMENT_KEY]
            .as_str()
            .map(|id| Element(id.to_string()))
            .ok_or_else(|| WebDriverError(format!("no element id: {v}")))
    }

    /// Waits until `css` matches an element.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element, WebDriverError> {
        try_eventually_blocking(&format!("an element {css}"), timeout, || {
            self.find(css).map_err(|e| e.0)
        })
        .map_err(|e| WebDriverError(e.to_string()))
    }

    /// Waits until `script` (a function body returning a value) returns something truthy; a
    /// script that fails ends the wait at once.
    pub fn wait_until(&self, script: &str, timeout: Duration) -> Result<Value, WebDriverError> {
        try_eventually_blocking(script, timeout, || match self.execute(script, json!([])) {
            Err(e) => Ok(Err(e)),
            Ok(v) if v.is_null() || v == json!(false) || v == json!(0) || v == json!("") => Err(v),
            Ok(v) => Ok(Ok(v)),
        })
        .map_err(|e| WebDriverError(e.to_string()))?
    }

    pub fn click(&self, element: &Element) -> Result<(), WebDriverError> {
        self.call(
            "POST",
            &format!("/element/{}/click", element.0),
            Some(&json!({})),
        )
        .map(|_| ())
    }

    pub fn send_keys(&self, element: &Element, text: &str) -> Result<(), WebDriverError> {
        self.call(
            "POST",
            &format!("/element/{}/value", element.0),
            Some(&json!({ "text": text })),
        )
        .map(|_| ())
    }

    pub fn text(&self, element: &Element) -> Result<String, WebDriverError> {
        Ok(self
            .call("GET", &format!("/element/{}/text", element.0), None)?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// Runs a script (a function body; `arguments` holds `args`) and returns its value.
    pub fn execute(&self, script: &str, args: Value) -> Result<Value, WebDriverError> {
        self.call(
            "POST",
            "/execute/sync",
            Some(&json!({ "script": script, "args": args })),
        )
    }

    pub fn title(&self) -> Result<String, WebDriverError> {
        Ok(self
            .call("GET", "/title", None)?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// Releases every key and button the session's input left pressed (WebDriver's "Release
    /// Actions").
    pub fn release_actions(&self) -> Result<(), WebDriverError> {
        self.call("DELETE", "/actions", None).map(|_| ())
    }

    /// Closes the current window.
    pub fn close_window(&self) -> Result<(), WebDriverError> {
        self.call("DELETE", "/window", None).map(|_| ())
    }

    pub fn window_handles(&self) -> Result<Vec<String>, WebDriverError> {
        let v = self.call("GET", "/window/handles", None)?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    pub fn switch_to(&self, handle: &str) -> Result<(), WebDriverError> {
        self.call("POST", "/window", Some(&json!({ "handle": handle })))
            .map(|_| ())
    }

    pub fn quit(self) {
        let _ = http(
            &self.agent,
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use ureq::http::StatusCode;

    use super::answer;

    #[test]
    fn answers_give_their_value_or_the_drivers_error() {
        let ok = StatusCode::OK;
        let not_found = StatusCode::NOT_FOUND;
        let cases: &[(StatusCode, &str, Result<serde_json::Value, &str>)] = &[
            (ok, r#"{"value": "Chatbell"}"#, Ok(json!("Chatbell"))),
            (ok, r#"{"value": null}"#, Ok(json!(null))),
            (
                ok,
                r#"{"value": {"text": "Иван"}}"#,
                Ok(json!({"text": "Иван"})),
            ),
            (
                not_found,
                r#"{"value": {"error": "no such element", "message": "no match for #x", "stacktrace": ""}}"#,
                Err("no such element: no match for #x"),
            ),
            // Some drivers answer an error with 200.
            (
                ok,
                r#"{"value": {"error": "javascript error", "message": "boom"}}"#,
                Err("javascript error: boom"),
            ),
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"value": "odd"}"#,
                Err(r#"500 Internal Server Error: {"value":"odd"}"#),
            ),
            (
                StatusCode::BAD_GATEWAY,
                "upstream gone",
                Err("502 Bad Gateway: expected value at line 1 column 1: upstream gone"),
            ),
        ];
        for (status, body, want) in cases {
            let got = answer(*status, body.as_bytes());
            let want = want.clone().map_err(str::to_string);
            assert_eq!(got, want, "{status} {body}");
        }
    }
}
