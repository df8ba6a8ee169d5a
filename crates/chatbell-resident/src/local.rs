//! The local socket's door, in either shape of the app: whoever binds it is the one running
//! Chatbell. A second launch asks it for its window (`Launcher`), `chatbell-cli` changes a
//! setting through it (`Cli`), and on Linux the window's process is served by `split`.

use std::future::Future;
use std::path::Path;

use chatbell_ipc::socket::{self, ConnectError, Listener, Peer, Receiver, Sender};
use chatbell_ipc::{CliReply, CliRequest, PROTOCOL, Role, ToResident, Welcome};

use crate::resident::Resident;

/// Answers everyone who connects to `listener`, for as long as the resident lives. A window's
/// process is handed to `window`.
pub async fn serve<W, F>(listener: Listener, resident: Resident, window: W)
where
    W: Fn(Receiver, Sender, Resident) -> F + Clone + Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    loop {
        match listener.accept().await {
            Ok(peer) => {
                let (resident, window) = (resident.clone(), window.clone());
                tokio::spawn(async move { greet(peer, resident, window).await });
            }
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection");
                // A process out of descriptors: let some close before accepting again.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

async fn greet<W, F>(peer: Peer, resident: Resident, window: W)
where
    W: Fn(Receiver, Sender, Resident) -> F,
    F: Future<Output = ()>,
{
    let db = resident.database();
    let greeted = peer
        .greet(|_| Welcome {
            protocol: PROTOCOL,
            version: env!("CARGO_PKG_VERSION").into(),
            db,
        })
        .await;
    match greeted {
        Ok((Role::Launcher, receiver, _)) => launcher(receiver, &resident).await,
        Ok((Role::Window, receiver, sender)) => window(receiver, sender, resident).await,
        Ok((Role::Cli, receiver, sender)) => cli(receiver, sender, &resident).await,
        Err(refusal) => tracing::warn!(%refusal, "refused a client"),
    }
}

/// A second `chatbell` launched: it asks for the window and leaves.
async fn launcher(mut receiver: Receiver, resident: &Resident) {
    match receiver.recv::<ToResident>().await {
        Ok(ToResident::Open) => {
            tracing::info!("launched again: showing the window");
            resident.show_window();
        }
        Ok(other) => tracing::warn!(?other, "a launcher asked for something else"),
        Err(e) => tracing::debug!(error = %e, "a launcher left"),
    }
}

/// `chatbell-cli`: one request about the settings, one answer, and it leaves.
async fn cli(mut receiver: Receiver, mut sender: Sender, resident: &Resident) {
    match receiver.recv::<CliRequest>().await {
        Ok(request) => {
            // The key, never the value (it may be anything the agent typed).
            let key = chatbell_engine::settings::shown_key(request.key());
            tracing::info!(%key, "chatbell-cli asked to change a setting");
            let reply: CliReply = resident.cli(request).await;
            if let Err(e) = sender.send(&reply).await {
                tracing::debug!(error = %e, "chatbell-cli left before its answer");
            }
        }
        Err(e) => tracing::debug!(error = %e, "chatbell-cli left"),
    }
}

/// Chatbell already runs at `path`: it is asked to show its window, unless this launch was to
/// start hidden (start at login), which it already is.
pub async fn open_running(path: &Path, hidden: bool) -> Result<(), ConnectError> {
    if hidden {
        return Ok(());
    }
    let (_, _, mut sender) = socket::connect(path, Role::Launcher).await?;
    sender.send(&ToResident::Open).await?;
    Ok(())
}
