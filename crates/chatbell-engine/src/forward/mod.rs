//! Telling someone who is not at the desk: the agent's phone (ntfy, Gotify), a webhook or a
//! program, and the team lead when a customer has waited too long (issue 28). What to say is a
//! [`Forward`]; [`request::build`] turns it into exactly what each service documents, and
//! [`http::post`] sends a request the company's way (the proxy and the trust of `net`);
//! [`command::run`] runs a command target.
//!
//! [`queue::Queue`] keeps each target's deliveries apart, with their retries; a [`Failure`] says
//! why one did not arrive. What goes where, and when, is `forwarder`'s.

pub mod command;
pub mod failure;
pub mod http;
pub mod queue;
pub mod request;

pub use failure::{Failure, Service};
pub use request::{Event, Forward, ForwardChat, HttpRequest, Outgoing, build};

use crate::keychain::Keychain;
use crate::net::Way;
use crate::secret::Secret;
use crate::settings::forward::ForwardTarget;

/// Where a target's secret lives: ntfy's access token, Gotify's application token, a webhook's
/// address when it carries one.
pub fn secret_entry(id: &str) -> Keychain {
    Keychain::new("chatbell", format!("forward:{id}"))
}

/// Sends `forward` to `target` once, now: a queue's delivery, or a test.
pub async fn send(
    target: &ForwardTarget,
    secret: Option<&Secret>,
    forward: &Forward,
    way: &Way<'_>,
) -> Result<(), Failure> {
    match build(&target.kind, secret, forward).map_err(Failure::Build)? {
        Outgoing::Http(request) => http::post(&request, way, http::TIMEOUT)
            .await
            .map(|_| ())
            .map_err(Failure::Post),
        Outgoing::Command {
            program,
            args,
            stdin,
        } => command::run(&program, &args, &stdin, command::LIMIT)
            .await
            .map_err(Failure::Command),
    }
}
