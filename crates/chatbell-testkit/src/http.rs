//! A recording HTTP server on loopback: every request a forwarding target sends (ntfy, Gotify,
//! a webhook) is kept as it arrived, and answered as the test chooses: a status, or never.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When its last byte was read (the benchmarks time forwards by it).
    pub arrived: std::time::Instant,
}

impl Recorded {
    /// A header's value, by its name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// How the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Status(u16),
    /// Reads the request, records it, and never answers.
    Hang,
}

pub struct RecordingHttp {
    url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    answer: Arc<Mutex<Answer>>,
    task: tokio::task::JoinHandle<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl RecordingHttp {
    /// Listening on a free loopback port, answering 200.
    pub async fn start() -> RecordingHttp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(Mutex::new(Answer::Status(200)));
        let (kept, answering) = (requests.clone(), answer.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (kept, answering) = (kept.clone(), answering.clone());
                tokio::spawn(async move { serve(stream, kept, answering).await });
            }
        });
        RecordingHttp {
            url,
            requests,
            answer,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn answer(&self, answer: Answer) {
        *lock(&self.answer) = answer;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.requests).clone()
    }

    /// Waits until `n` requests have arrived; all of them.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Recorded> {
        crate::eventually(&format!("{n} requests"), within, async || {
            let seen = self.requests();
            if seen.len() >= n {
                Ok(seen)
            } else {
                Err(seen.len())
            }
        })
        .await
    }
}

impl Drop for RecordingHttp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, kept: Arc<Mutex<Vec<Recorded>>>, answer: Arc<Mutex<Answer>>) {
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    let recorded = loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => data.extend_from_slice(&chunk[..n]),
        }
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        let Ok(httparse::Status::Complete(head)) = request.parse(&data) else {
            continue;
        };
        let headers: Vec<(String, String)> = request
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if data.len() < head + length {
            continue;
        }
        break Recorded {
            method: request.method.unwrap_or_default().to_string(),
            path: request.path.unwrap_or_default().to_string(),
            headers,
            body: data[head..head + length].to_vec(),
            arrived: std::time::Instant::now(),
        };
    };
    lock(&kept).push(recorded);
    let answer = *lock(&answer);
    match answer {
        Answer::Status(status) => {
            let reply = format!(
                "HTTP/1.1 {status} Recorded\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            );
            let _ = stream.write_all(reply.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
        Answer::Hang => std::future::pending::<()>().await,
    }
}
