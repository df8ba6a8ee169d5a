//! The writing half of the connection: one task sends everything the client writes (actions,
//! pings, the close frame), each send bounded by a timeout. Reading and the liveness check run
//! elsewhere and never wait for a write, so a server that stops reading cannot stop the client
//! from hearing what it still sends; the stuck write itself becomes the verdict.

use std::time::Duration;

use futures_util::{Sink, SinkExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Frames waiting to be sent. The connection queues a command's action only when there is
/// room (otherwise the command waits in its own channel), so nothing queued is ever dropped.
const QUEUE: usize = 32;

/// Why the sending task stopped before it was closed.
#[derive(Debug)]
pub(crate) enum Stopped {
    /// The frame was not taken within the timeout: the server stopped reading.
    TimedOut {
        what: &'static str,
        after: Duration,
    },
    Failed {
        what: &'static str,
        error: WsError,
    },
    /// The task panicked or the queue closed early; neither should happen.
    Gone,
}

/// The handle the connection holds; dropping it stops the task.
pub(crate) struct Outgoing {
    tx: mpsc::Sender<Message>,
    task: JoinHandle<Result<(), Stopped>>,
}

impl Outgoing {
    /// Sends `first` (the subscriptions), then whatever is queued (actions, the connection's
    /// pings). Each send must complete within `timeout`.
    pub fn start<S>(sink: S, first: Vec<Message>, timeout: Duration) -> Self
    where
        S: Sink<Message, Error = WsError> + Unpin + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(sink, first, rx, timeout));
        Outgoing { tx, task }
    }

    pub fn has_room(&self) -> bool {
        self.tx.capacity() > 0
    }

    /// Queues a frame; call only after [`Outgoing::has_room`] said yes.
    pub fn queue(&self, message: Message) {
        let queued = self.tx.try_send(message);
        debug_assert!(queued.is_ok(), "queued without room");
    }

    /// Resolves when the task stopped on its own, with why. Cancel-safe; once it has
    /// resolved, do not poll it again.
    pub async fn stopped(&mut self) -> Stopped {
        match (&mut self.task).await {
            Ok(Err(stopped)) => stopped,
            Ok(Ok(())) | Err(_) => Stopped::Gone,
        }
    }

    /// Sends what is queued, then the close frame, giving up after `within`.
    pub async fn close(mut self, frame: CloseFrame, within: Duration) {
        let _ = self.tx.try_send(Message::Close(Some(frame)));
        // Without a sender the task ends once it has sent everything queued.
        self.tx = mpsc::channel(1).0;
        let _ = tokio::time::timeout(within, &mut self.task).await;
    }
}

impl Drop for Outgoing {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run<S>(
    mut sink: S,
    first: Vec<Message>,
    mut rx: mpsc::Receiver<Message>,
    timeout: Duration,
) -> Result<(), Stopped>
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    for message in first {
        send(&mut sink, message, timeout).await?;
    }
    while let Some(message) = rx.recv().await {
        send(&mut sink, message, timeout).await?;
    }
    Ok(())
}

async fn send<S>(sink: &mut S, message: Message, timeout: Duration) -> Result<(), Stopped>
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    let what = match &message {
        Message::Text(_) => "an action",
        Message::Ping(_) => "a ping",
        Message::Close(_) => "the close frame",
        _ => "a frame",
    };
    match tokio::time::timeout(timeout, sink.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(Stopped::Failed { what, error }),
        Err(_) => Err(Stopped::TimedOut {
            what,
            after: timeout,
        }),
    }
}
