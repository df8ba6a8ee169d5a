//! A minimal W3C WebDriver client over plain HTTP/1.1: what the end-to-end tests need
//! (sessions, elements, clicks, keys, text, scripts, screenshots) and nothing more.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

#[derive(Debug)]
pub struct WebDriverError(pub String);

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One command. tauri-driver sometimes forwards a command over a pooled connection that
/// WebKitWebDriver has already closed; it then answers nothing and the command never reached
/// the browser, so it is sent again (a few times, briefly apart).
fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, WebDriverError> {
    let mut attempt = 0;
    loop {
        match http_once(port, method, path, body) {
            Err(e) if e.0.contains("no HTTP response") && attempt < 5 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

fn http_once(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, WebDriverError> {
    let err = |e: std::io::Error| WebDriverError(format!("{method} {path}: {e}"));
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(err)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(err)?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(err)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(err)?;
    let text = String::from_utf8_lossy(&response);
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| WebDriverError(format!("no HTTP response: {text}")))?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    let json: Value = serde_json::from_str(&body)
        .map_err(|e| WebDriverError(format!("{method} {path}: {e}: {body}")))?;
    if let Some(error) = json["value"]["error"].as_str() {
        return Err(WebDriverError(format!(
            "{method} {path}: {error}: {}",
            json["value"]["message"]
        )));
    }
    Ok(json["value"].clone())
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

/// One WebDriver session.
pub struct WebDriver {
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
        let deadline = Instant::now() + timeout;
        loop {
            match http(
                port,
                "POST",
                "/session",
                Some(&json!({ "capabilities": capabilities })),
            ) {
                Ok(v) => {
                    let session = v["sessionId"]
                        .as_str()
                        .ok_or_else(|| WebDriverError(format!("no session id: {v}")))?;
                    return Ok(WebDriver {
                        port,
                        session: session.to_string(),
                    });
                }
                Err(e) if Instant::now() < deadline && e.0.contains("Connection refused") => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, WebDriverError> {
        http(
            self.port,
            method,
            &format!("/session/{}{path}", self.session),
            body,
        )
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
        let deadline = Instant::now() + timeout;
        loop {
            match self.find(css) {
                Ok(e) => return Ok(e),
                Err(e) if Instant::now() >= deadline => {
                    return Err(WebDriverError(format!("waiting for {css}: {e}")));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Waits until `script` (a function body returning a value) returns something truthy.
    pub fn wait_until(&self, script: &str, timeout: Duration) -> Result<Value, WebDriverError> {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.execute(script, json!([]))?;
            let truthy = !(v.is_null() || v == json!(false) || v == json!(0) || v == json!(""));
            if truthy {
                return Ok(v);
            }
            if Instant::now() >= deadline {
                return Err(WebDriverError(format!("timed out waiting for: {script}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
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

    /// A PNG of the page.
    pub fn screenshot(&self) -> Result<Vec<u8>, WebDriverError> {
        let b64 = self.call("GET", "/screenshot", None)?;
        decode_base64(b64.as_str().unwrap_or_default())
            .ok_or_else(|| WebDriverError("bad screenshot data".into()))
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
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
    }
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= value(*c)? << (18 - 6 * i);
        }
        let n = chunk.len();
        out.push((acc >> 16) as u8);
        if n > 2 {
            out.push((acc >> 8) as u8);
        }
        if n > 3 {
            out.push(acc as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{dechunk, decode_base64};

    #[test]
    fn decodes_base64_and_chunked_bodies() {
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("YWJj").unwrap(), b"abc");
        assert_eq!(
            dechunk("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
            "hello world"
        );
    }
}
