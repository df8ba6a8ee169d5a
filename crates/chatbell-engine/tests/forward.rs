//! Forwarding's requests for real: built for each service and sent over loopback to a
//! recording HTTP server, which checks them against what ntfy, Gotify and a webhook document.

use std::time::Duration;

use chatbell_engine::forward::http::{PostError, post};
use chatbell_engine::forward::request::{Event, Forward, ForwardChat, Outgoing, build};
use chatbell_engine::net::Way;
use chatbell_engine::secret::Secret;
use chatbell_engine::settings::forward::TargetKind;
use chatbell_engine::settings::{ProxySetting, TlsSettings};
use chatbell_testkit::{Answer, RecordingHttp};

const WITHIN: Duration = Duration::from_secs(10);

fn urgent() -> Forward {
    Forward {
        event: Event::Urgent { step: 3 },
        title: "Иван Петров waits".into(),
        text: "12 min without an answer".into(),
        click: Some("https://panel.example.com/chat/42".into()),
        chats: vec![ForwardChat {
            user_id: 42,
            name: "Иван Петров".into(),
            waiting_secs: 720,
            source: "telegram".into(),
        }],
        at: "2026-12-07T10:00:00Z".parse().unwrap(),
    }
}

async fn send(
    target: &TargetKind,
    secret: Option<&Secret>,
    timeout: Duration,
) -> Result<u16, PostError> {
    let Outgoing::Http(request) = build(target, secret, &urgent()).unwrap() else {
        panic!("not HTTP");
    };
    let tls = TlsSettings::default();
    let way = Way {
        proxy: &ProxySetting::None,
        proxy_password: None,
        tls: &tls,
        key_passphrase: None,
    };
    post(&request, &way, timeout).await
}

#[tokio::test]
async fn ntfy_receives_a_publish_as_its_documentation_shows() {
    let ntfy = RecordingHttp::start().await;
    let target = TargetKind::Ntfy {
        url: format!("{}/", ntfy.url()),
        topic: "support-ann".into(),
    };
    let token = Secret::new("tk_AgentsPhone");
    assert_eq!(send(&target, Some(&token), WITHIN).await, Ok(200));
    let got = ntfy.wait_for(1, WITHIN).await.remove(0);
    assert_eq!(
        (got.method.as_str(), got.path.as_str()),
        ("POST", "/support-ann")
    );
    assert_eq!(got.body, b"12 min without an answer");
    assert_eq!(
        got.header("Title"),
        Some("=?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCyIHdhaXRz?=")
    );
    assert_eq!(got.header("Priority"), Some("5"));
    assert_eq!(got.header("Tags"), Some("rotating_light"));
    assert_eq!(
        got.header("Click"),
        Some("https://panel.example.com/chat/42")
    );
    assert_eq!(got.header("Authorization"), Some("Bearer tk_AgentsPhone"));
    assert!(
        got.header("Host")
            .is_some_and(|h| h.starts_with("127.0.0.1:"))
    );
}

#[tokio::test]
async fn gotify_receives_a_message_with_its_application_key() {
    let gotify = RecordingHttp::start().await;
    let target = TargetKind::Gotify {
        url: gotify.url().into(),
    };
    let key = Secret::new("AzErTy.123");
    assert_eq!(send(&target, Some(&key), WITHIN).await, Ok(200));
    let got = gotify.wait_for(1, WITHIN).await.remove(0);
    assert_eq!(
        (got.method.as_str(), got.path.as_str()),
        ("POST", "/message")
    );
    assert_eq!(got.header("X-Gotify-Key"), Some("AzErTy.123"));
    assert_eq!(got.header("Content-Type"), Some("application/json"));
    assert_eq!(
        got.json(),
        serde_json::json!({
            "title": "Иван Петров waits",
            "message": "12 min without an answer",
            "priority": 8,
            "extras": {"client::notification": {"click": {"url": "https://panel.example.com/chat/42"}}}
        })
    );
}

#[tokio::test]
async fn a_webhook_receives_the_documented_json_at_its_secret_address() {
    let hook = RecordingHttp::start().await;
    let secret_url = Secret::new(format!("{}/hooks/T0?sig=abc", hook.url()));
    let target = TargetKind::Webhook { url: None };
    assert_eq!(send(&target, Some(&secret_url), WITHIN).await, Ok(200));
    let got = hook.wait_for(1, WITHIN).await.remove(0);
    assert_eq!(got.path, "/hooks/T0?sig=abc");
    let body = got.json();
    assert_eq!(body["event"], "urgent");
    assert_eq!(body["step"], 3);
    assert_eq!(body["chats"][0]["name"], "Иван Петров");
    assert_eq!(body["chats"][0]["waiting_secs"], 720);
}

#[tokio::test]
async fn refusals_are_not_retried_trouble_is_and_a_silent_server_times_out() {
    let server = RecordingHttp::start().await;
    let target = TargetKind::Ntfy {
        url: server.url().into(),
        topic: "t".into(),
    };
    server.answer(Answer::Status(401));
    let refused = send(&target, None, WITHIN).await.unwrap_err();
    assert_eq!(refused, PostError::Status(401));
    assert!(!refused.retry());

    server.answer(Answer::Status(503));
    let trouble = send(&target, None, WITHIN).await.unwrap_err();
    assert_eq!(trouble, PostError::Status(503));
    assert!(trouble.retry());

    server.answer(Answer::Hang);
    let timeout = Duration::from_millis(500);
    let silent = send(&target, None, timeout).await.unwrap_err();
    assert_eq!(silent, PostError::Timeout(timeout));
    assert!(silent.retry());
    // The request did arrive: it was the answer that never came.
    assert_eq!(server.wait_for(3, WITHIN).await.len(), 3);

    // Nobody listening: the network's own words.
    drop(server);
    let gone = TargetKind::Ntfy {
        url: "http://127.0.0.1:1".into(),
        topic: "t".into(),
    };
    let err = send(&gone, None, WITHIN).await.unwrap_err();
    assert!(matches!(err, PostError::Net(_)), "{err:?}");
    assert!(err.retry());
}

/// A command target: started without a shell, the JSON line on its standard input; one that
/// fails is said with its own words, one that hangs is ended at the limit.
#[cfg(unix)]
#[tokio::test]
async fn a_command_gets_the_json_on_its_input_and_is_ended_at_the_limit() {
    use chatbell_engine::forward::command::{CommandError, run};

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("got.json");
    let Outgoing::Command {
        program: _,
        args: _,
        stdin,
    } = build(
        &TargetKind::Command {
            program: "/bin/sh".into(),
            args: vec![],
        },
        None,
        &urgent(),
    )
    .unwrap()
    else {
        panic!("not a command");
    };
    // `$0` is the file: an argument passed as it is, not through a shell of ours.
    let script = vec![
        "-c".to_string(),
        "cat > \"$0\"".into(),
        out.display().to_string(),
    ];
    run("/bin/sh".as_ref(), &script, &stdin, WITHIN)
        .await
        .unwrap();
    let got: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(got["event"], "urgent");
    assert_eq!(got["chats"][0]["name"], "Иван Петров");

    let failing = vec![
        "-c".to_string(),
        "echo 'no route to pager' >&2; exit 3".into(),
    ];
    match run("/bin/sh".as_ref(), &failing, &stdin, WITHIN).await {
        Err(CommandError::Failed { said, .. }) => {
            assert_eq!(said.as_deref(), Some("no route to pager"))
        }
        other => panic!("{other:?}"),
    }

    let limit = Duration::from_millis(300);
    let hanging = vec!["-c".to_string(), "sleep 30".into()];
    let started = std::time::Instant::now();
    match run("/bin/sh".as_ref(), &hanging, &stdin, limit).await {
        Err(CommandError::Timeout { limit: l, .. }) => assert_eq!(l, limit),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < WITHIN, "ended, not waited for");

    match run("/no/such/program".as_ref(), &[], &stdin, WITHIN).await {
        Err(CommandError::Start { error, .. }) => assert!(!error.is_empty()),
        other => panic!("{other:?}"),
    }
}
