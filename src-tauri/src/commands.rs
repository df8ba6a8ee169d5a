//! The IPC surface: every command the page calls (`invoke(name, args)`), each granted one by
//! one in `capabilities/main.json` (Tauri checks the grant before this runs), read into the
//! contract's `Command` and carried out by the backend. The contract is `chatbell-ipc`'s
//! `Command`, written down in `docs/ipc.md`.

use chatbell_ipc::Command;
use tauri::ipc::{Invoke, InvokeBody, InvokeError};
use tauri::{Manager, Wry};

use crate::backend::Backend;

/// The app's invoke handler: answers every command asynchronously; a name or arguments that
/// are not a command of the contract are refused with an `invalid` error.
pub fn dispatch(invoke: Invoke<Wry>) -> bool {
    let name = invoke.message.command().to_string();
    let args = match invoke.message.payload() {
        InvokeBody::Json(args) => args.clone(),
        InvokeBody::Raw(_) => serde_json::Value::Null,
    };
    let backend = invoke.message.webview().state::<Backend>().inner().clone();
    invoke.resolver.respond_async(async move {
        let started = std::time::Instant::now();
        let command = Command::parse(&name, args).map_err(InvokeError::from)?;
        let result = backend.call(command).await;
        tracing::debug!(command = %name, ok = result.is_ok(), took = ?started.elapsed(), "answered");
        result.map_err(InvokeError::from)
    });
    true
}
