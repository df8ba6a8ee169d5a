//! macOS and Windows: notify-rust's native backends. They show and forget: there is no
//! server-side id to update in place, so each update is a new banner, and clicks are reported
//! by the OS to the app itself (the app brings its window up when activated).

use tokio::sync::mpsc;

use super::{BoxFuture, Notifier, NotifierConfig, NotifyError, Request, Response, ServerInfo};

pub struct Native {
    config: NotifierConfig,
    next_id: u32,
}

impl Native {
    pub fn new(config: NotifierConfig) -> Self {
        Native { config, next_id: 1 }
    }
}

impl Notifier for Native {
    fn show(&mut self, request: Request) -> BoxFuture<'_, Result<u32, NotifyError>> {
        let id = request.replaces.unwrap_or_else(|| {
            self.next_id += 1;
            self.next_id
        });
        let app = self.config.app_name.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut n = notify_rust::Notification::new();
                #[cfg(target_os = "windows")]
                n.app_id(super::APP_USER_MODEL_ID);
                n.appname(&app)
                    .summary(&request.summary)
                    .body(&request.body);
                if request.sound {
                    n.sound_name("default");
                }
                n.show()
                    .map(|_| id)
                    .map_err(|e| NotifyError::Failed(e.to_string()))
            })
            .await
            .map_err(|e| NotifyError::Failed(e.to_string()))?
        })
    }

    fn close(&mut self, _id: u32) -> BoxFuture<'_, Result<(), NotifyError>> {
        Box::pin(async { Ok(()) })
    }

    fn take_responses(&mut self) -> Option<mpsc::Receiver<Response>> {
        None
    }

    fn server_info(&mut self) -> BoxFuture<'_, Result<ServerInfo, NotifyError>> {
        let name = if cfg!(target_os = "macos") {
            "macOS Notification Center"
        } else {
            "Windows notifications"
        };
        Box::pin(async move {
            Ok(ServerInfo {
                name: name.into(),
                vendor: "OS".into(),
                version: String::new(),
                // Both keep what was missed (Notification Center, the Action Center); neither
                // shows our buttons through notify-rust.
                capabilities: vec!["body".into(), "persistence".into()],
            })
        })
    }
}
