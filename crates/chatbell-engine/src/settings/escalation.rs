//! When to remind the agent of a customer who is still waiting: the settings of the ladder.
//! The ladder itself (which step is due when) is `crate::escalation::ladder`.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use super::problem::{Bounds, Problem, Unit};

/// Minutes any step of a ladder may be set to: a minute to a day.
pub const LADDER_MINUTES: RangeInclusive<u32> = 1..=1440;
/// Sources one may give timings of their own (`notifications.escalation.sources`).
pub const MAX_SOURCES: usize = 16;
/// Length of a source's name in `notifications.escalation.sources`.
pub const SOURCE_LEN: RangeInclusive<usize> = 1..=32;

/// The reminders for one kind of waiting chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ladder {
    /// The first reminder, this many minutes after the customer started waiting.
    pub realert_after_min: u32,
    /// Then one every this many minutes.
    pub every_min: u32,
    /// From this many minutes of waiting on, reminders are urgent; `None`: never.
    pub urgent_after_min: Option<u32>,
}

impl Ladder {
    pub const NEW_CHAT: Ladder = Ladder {
        realert_after_min: 2,
        every_min: 2,
        urgent_after_min: Some(10),
    };
    pub const NEW_MESSAGE: Ladder = Ladder {
        realert_after_min: 5,
        every_min: 2,
        urgent_after_min: Some(10),
    };
}

/// Timings of one source (e.g. "telegram", "widget"), used instead of the general ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLadders {
    pub new_chat: Ladder,
    pub new_message: Ladder,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EscalationSettings {
    /// Remind while a customer waits; off: only the first notification, as before.
    pub enabled: bool,
    /// For chats the agent has never opened.
    pub new_chat: Ladder,
    /// For new messages in chats the agent has opened before.
    pub new_message: Ladder,
    /// Timings per source, by the `source` the server sends.
    pub sources: BTreeMap<String, SourceLadders>,
}

impl Default for EscalationSettings {
    fn default() -> Self {
        EscalationSettings {
            enabled: true,
            new_chat: Ladder::NEW_CHAT,
            new_message: Ladder::NEW_MESSAGE,
            sources: BTreeMap::new(),
        }
    }
}

impl EscalationSettings {
    /// The ladder for a chat: its source's own timings if set, else the general ones.
    pub fn ladder(&self, new_chat: bool, source: Option<&str>) -> Ladder {
        let own = source.and_then(|s| self.sources.get(s));
        match (own, new_chat) {
            (Some(own), true) => own.new_chat,
            (Some(own), false) => own.new_message,
            (None, true) => self.new_chat,
            (None, false) => self.new_message,
        }
    }

    /// Checks every number against [`LADDER_MINUTES`], the sources' count and names; the error
    /// is the field's path and its problem.
    pub(super) fn check(&self) -> Result<(), (String, Problem)> {
        let minutes = Bounds::of(&LADDER_MINUTES, Unit::Minutes);
        let ladder = |path: String, l: &Ladder| -> Result<(), (String, Problem)> {
            for (name, value) in [
                ("realert_after_min", Some(l.realert_after_min)),
                ("every_min", Some(l.every_min)),
                ("urgent_after_min", l.urgent_after_min),
            ] {
                if let Some(v) = value {
                    minutes
                        .check(v)
                        .map_err(|problem| (format!("{path}.{name}"), problem))?;
                }
            }
            Ok(())
        };
        let base = "notifications.escalation";
        ladder(format!("{base}.new_chat"), &self.new_chat)?;
        ladder(format!("{base}.new_message"), &self.new_message)?;
        if self.sources.len() > MAX_SOURCES {
            return Err((
                format!("{base}.sources"),
                Problem::TooMany {
                    max: MAX_SOURCES as u64,
                    unit: Unit::Sources,
                },
            ));
        }
        for (source, own) in &self.sources {
            if !SOURCE_LEN.contains(&source.chars().count())
                || source.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                return Err((
                    format!("{base}.sources"),
                    Problem::NotASourceName {
                        min: *SOURCE_LEN.start() as u64,
                        max: *SOURCE_LEN.end() as u64,
                    },
                ));
            }
            // The name is the server's word (telegram, widget), not the agent's secret: it may
            // be quoted.
            ladder(format!("{base}.sources.{source}.new_chat"), &own.new_chat)?;
            ladder(
                format!("{base}.sources.{source}.new_message"),
                &own.new_message,
            )?;
        }
        Ok(())
    }
}
