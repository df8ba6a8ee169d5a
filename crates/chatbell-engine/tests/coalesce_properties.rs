//! The coalescer over generated sequences of arrivals, dismissals, closes and wakeups, with time
//! as values: the rules of `coalesce.rs` hold for every sequence, not only the table's.
//!
//! The driver plays the notifier service: it ticks at every `next_deadline` (as the service's
//! timer does) before the next input, and the checks below follow every command. What holds:
//!
//! - **one notification per chat per window**: two shows of the same slot (a chat's, or the
//!   digest) are at least `chat_window` apart, unless that notification was ended in between
//!   (closed by the coalescer for a digest, dismissed because the agent opened the chat, or
//!   closed by the server);
//! - **nothing is lost**: every arrival is shown within `chat_window` of arriving, in its chat's
//!   notification (whose count covers it and whose text is the latest) or in the digest of the
//!   flood it belongs to; the only exception is the agent opening the chat (a notification the
//!   server closes while an update is pending does not take the update with it);
//! - **digests are exact**: a flood starts when more than `digest_chats` chats arrive within
//!   `digest_window`, lasts until `digest_window` passes without an arrival, and its digest
//!   counts the messages and chats of the window it started with and every one since;
//! - **no wakeups for nothing**: a tick at `next_deadline` always shows something, a tick
//!   before it does nothing, and there is no deadline while nothing is pending;
//! - **sound**: only for an arrival that wants it, never on an update shown by a tick, at most
//!   once per `sound_interval` after any sound for a message and after a new chat's sound for a
//!   new chat, and always when those allow it.
//!
//! Eviction of live notifications beyond `max_live` is silent; the generated configurations
//! keep `max_live >= digest_chats` and `2 * chat_window <= digest_window`, under which only
//! a notification with nothing pending is evicted (the default configuration is one of them).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use chatbell_engine::coalesce::{CoalesceConfig, Coalescer, Command, Content, Incoming};
use chatbell_engine::model::{NotifyKind, Slot};
use chatbell_engine::sound::SoundKind;
use chatbell_protocol::UserId;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    /// An allowed notification arrives.
    Push {
        user: UserId,
        new_chat: bool,
        sound: bool,
    },
    /// The agent opened the chat.
    Dismiss(UserId),
    /// The notification server closed a notification (expired or dismissed).
    Closed(Slot),
    /// The service's loop woke for something else (a message that was not a notification).
    Wake,
}

#[derive(Debug, Clone)]
struct Op {
    after_ms: u64,
    step: Step,
}

fn config_strategy() -> impl Strategy<Value = CoalesceConfig> {
    let generated = (
        0u64..=5_000,
        0u64..=10_000,
        0usize..=5,
        0usize..=3,
        0u64..=15_000,
    )
        .prop_map(
            |(chat, digest_extra, digest_chats, live_extra, sound)| CoalesceConfig {
                chat_window: Duration::from_millis(chat),
                digest_window: Duration::from_millis(2 * chat + digest_extra),
                digest_chats,
                sound_interval: Duration::from_millis(sound),
                max_live: (digest_chats + live_extra).max(1),
            },
        );
    prop_oneof![Just(CoalesceConfig::default()), generated]
}

fn user() -> impl Strategy<Value = UserId> {
    // A few chats often (bursts, updates), more now and then (floods, eviction).
    prop_oneof![3 => 1i64..=4, 1 => -3i64..=12]
}

fn op() -> impl Strategy<Value = Op> {
    let after_ms = prop_oneof![
        5 => 0u64..300,
        3 => 300u64..4_000,
        1 => 4_000u64..30_000,
    ];
    let step = prop_oneof![
        12 => (user(), prop::bool::weighted(0.3), prop::bool::weighted(0.8))
            .prop_map(|(user, new_chat, sound)| Step::Push { user, new_chat, sound }),
        1 => user().prop_map(Step::Dismiss),
        1 => prop_oneof![3 => user().prop_map(Slot::Chat), 1 => Just(Slot::Digest)]
            .prop_map(Step::Closed),
        1 => Just(Step::Wake),
    ];
    (after_ms, step).prop_map(|(after_ms, step)| Op { after_ms, step })
}

fn name(user: UserId) -> String {
    format!("U{user}")
}

struct Arrival {
    at: Instant,
    user: UserId,
    kind: NotifyKind,
    text: String,
}

/// The arrivals of the flood a digest stands for.
struct Flood {
    messages: u32,
    chats: BTreeSet<UserId>,
    /// Its arrivals, latest last (for the names, most recent first).
    members: Vec<usize>,
}

/// What the rules say must have happened, kept beside the coalescer and compared with every
/// command it returns.
struct Check {
    config: CoalesceConfig,
    t0: Instant,
    arrivals: Vec<Arrival>,
    /// Per chat, the arrivals its live notification stands for (since it last ended).
    entry: HashMap<UserId, Vec<usize>>,
    /// Arrivals not shown yet: in a chat's notification, or in the digest.
    owed_chat: BTreeMap<UserId, BTreeSet<usize>>,
    owed_digest: BTreeSet<usize>,
    flood: Option<Flood>,
    flood_last: Option<Instant>,
    last_show: HashMap<Slot, Instant>,
    last_sound: Option<Instant>,
    last_new_chat_sound: Option<Instant>,
}

/// Where a command came from, for the sound rules.
enum Source {
    Push { arrival: usize, sound_wanted: bool },
    Tick,
    Dismiss,
}

impl Check {
    fn new(config: CoalesceConfig, t0: Instant) -> Self {
        Check {
            config,
            t0,
            arrivals: Vec::new(),
            entry: HashMap::new(),
            owed_chat: BTreeMap::new(),
            owed_digest: BTreeSet::new(),
            flood: None,
            flood_last: None,
            last_show: HashMap::new(),
            last_sound: None,
            last_new_chat_sound: None,
        }
    }

    fn ms(&self, t: Instant) -> u128 {
        t.duration_since(self.t0).as_millis()
    }

    fn owed(&self) -> impl Iterator<Item = usize> + '_ {
        self.owed_chat
            .values()
            .flatten()
            .chain(&self.owed_digest)
            .copied()
    }

    /// A chat's notification ended: the next arrival starts a new one.
    fn end_chat(&mut self, user: UserId) {
        self.entry.remove(&user);
        self.last_show.remove(&Slot::Chat(user));
    }

    /// Decides, by the documented flood rule, whether an arrival goes to the digest, and keeps
    /// the flood's counts. Returns whether it does, and whether it starts the flood.
    fn arrive(&mut self, index: usize) -> (bool, bool) {
        let now = self.arrivals[index].at;
        let window = self.config.digest_window;
        let recent: Vec<usize> = (0..=index)
            .filter(|&i| now.duration_since(self.arrivals[i].at) < window)
            .collect();
        let chats: BTreeSet<UserId> = recent.iter().map(|&i| self.arrivals[i].user).collect();
        let active = self
            .flood_last
            .is_some_and(|last| now.duration_since(last) < window);
        if !active && chats.len() <= self.config.digest_chats {
            return (false, false);
        }
        self.flood_last = Some(now);
        if active {
            let flood = self.flood.as_mut().expect("an active flood");
            flood.messages += 1;
            flood.chats.insert(self.arrivals[index].user);
            flood.members.push(index);
            (true, false)
        } else {
            self.flood = Some(Flood {
                messages: recent.len() as u32,
                chats,
                members: recent,
            });
            (true, true)
        }
    }

    /// Checks one command against the rules and records what it shows.
    fn command(
        &mut self,
        at: Instant,
        command: &Command,
        source: &Source,
    ) -> Result<(), TestCaseError> {
        let w = self.config.chat_window;
        let (slot, content, sound) = match command {
            Command::Close { slot } => {
                let Slot::Chat(user) = *slot else {
                    return Err(TestCaseError::fail(format!("closes {slot:?}")));
                };
                if !matches!(source, Source::Dismiss) {
                    // Only the start of a flood closes chats (their arrivals go to the digest).
                    prop_assert!(
                        self.entry.contains_key(&user),
                        "at {} ms closes chat {user}, which has no live notification",
                        self.ms(at)
                    );
                }
                self.end_chat(user);
                return Ok(());
            }
            Command::Show {
                slot,
                content,
                sound,
            } => (*slot, content, *sound),
        };

        if let Some(last) = self.last_show.get(&slot) {
            prop_assert!(
                at.duration_since(*last) >= w,
                "{slot:?} shown at {} ms and again at {} ms, within the chat window",
                self.ms(*last),
                self.ms(at)
            );
        }
        self.last_show.insert(slot, at);

        let reflected: Vec<usize> = match (slot, content) {
            (
                Slot::Chat(user),
                Content::Chat {
                    user_id,
                    name: shown_name,
                    kind,
                    count,
                    text,
                    ..
                },
            ) => {
                prop_assert_eq!(*user_id, user);
                let entry = self.entry.get(&user).cloned().unwrap_or_default();
                let owed = self.owed_chat.remove(&user).unwrap_or_default();
                let count = *count as usize;
                prop_assert!(
                    owed.len() <= count && count <= entry.len() && count >= 1,
                    "chat {user} at {} ms: count {count}, but {} not shown yet of {} since its \
                     notification began",
                    self.ms(at),
                    owed.len(),
                    entry.len()
                );
                let latest = &self.arrivals[*entry.last().expect("an arrival")];
                prop_assert_eq!(
                    text.as_deref(),
                    Some(latest.text.as_str()),
                    "not the latest text"
                );
                prop_assert_eq!(shown_name, &name(user));
                if count == entry.len() {
                    prop_assert_eq!(
                        *kind,
                        self.arrivals[entry[0]].kind,
                        "not the first arrival's kind"
                    );
                }
                owed.into_iter().collect()
            }
            (
                Slot::Digest,
                Content::Digest {
                    messages,
                    chats,
                    names,
                },
            ) => {
                let flood = self.flood.as_ref().ok_or_else(|| {
                    TestCaseError::fail(format!("a digest at {} ms without a flood", self.ms(at)))
                })?;
                prop_assert_eq!(*messages, flood.messages, "digest's message count");
                prop_assert_eq!(*chats as usize, flood.chats.len(), "digest's chat count");
                prop_assert!(flood.chats.len() > self.config.digest_chats);
                let latest = &self.arrivals[*flood.members.last().expect("a member")];
                prop_assert!(names.len() <= 3 && !names.is_empty());
                prop_assert_eq!(&names[0], &name(latest.user), "names: most recent first");
                let allowed: BTreeSet<String> = flood.chats.iter().map(|u| name(*u)).collect();
                let distinct: BTreeSet<&String> = names.iter().collect();
                prop_assert_eq!(distinct.len(), names.len(), "a name twice: {:?}", names);
                prop_assert!(
                    names.iter().all(|n| allowed.contains(n)),
                    "{names:?} not of the flood"
                );
                std::mem::take(&mut self.owed_digest).into_iter().collect()
            }
            other => return Err(TestCaseError::fail(format!("unexpected show {other:?}"))),
        };
        for i in reflected {
            let a = &self.arrivals[i];
            prop_assert!(
                at <= a.at + w,
                "arrival {i} (chat {}, {} ms) first shown at {} ms, after the chat window",
                a.user,
                self.ms(a.at),
                self.ms(at)
            );
        }

        match *source {
            Source::Push {
                arrival,
                sound_wanted,
            } => {
                let new_chat = self.arrivals[arrival].kind == NotifyKind::NewChat;
                let last = match new_chat {
                    true => self.last_new_chat_sound,
                    false => self.last_sound,
                };
                let allowed = sound_wanted
                    && last.is_none_or(|t| at.duration_since(t) >= self.config.sound_interval);
                let want = allowed.then_some(match new_chat {
                    true => SoundKind::NewChat,
                    false => SoundKind::NewMessage,
                });
                prop_assert_eq!(
                    sound,
                    want,
                    "sound at {} ms (wanted {}, last {:?} ms)",
                    self.ms(at),
                    sound_wanted,
                    last.map(|t| self.ms(t))
                );
                if sound.is_some() {
                    self.last_sound = Some(at);
                    if new_chat {
                        self.last_new_chat_sound = Some(at);
                    }
                }
            }
            Source::Tick | Source::Dismiss => {
                prop_assert_eq!(sound, None, "an update shown by a tick sounds");
            }
        }
        Ok(())
    }

    /// Every arrival not shown yet can still be shown within its window.
    fn none_overdue(&self, now: Instant) -> Result<(), TestCaseError> {
        for i in self.owed() {
            let a = &self.arrivals[i];
            prop_assert!(
                now < a.at + self.config.chat_window,
                "arrival {i} (chat {}, {} ms) still not shown at {} ms",
                a.user,
                self.ms(a.at),
                self.ms(now)
            );
        }
        Ok(())
    }
}

struct Run {
    c: Coalescer,
    check: Check,
    now: Instant,
}

impl Run {
    /// The service's timer: tick at every deadline up to `until`.
    fn wake_until(&mut self, until: Instant) -> Result<(), TestCaseError> {
        for _ in 0..10_000 {
            let Some(deadline) = self.c.next_deadline() else {
                prop_assert!(
                    self.check.owed().next().is_none(),
                    "no deadline at {} ms, but arrivals {:?} are not shown",
                    self.check.ms(self.now),
                    self.check.owed().collect::<Vec<_>>()
                );
                return Ok(());
            };
            if deadline > until {
                return Ok(());
            }
            // A deadline already past fires at once.
            self.now = self.now.max(deadline);
            let commands = self.c.tick(self.now);
            prop_assert!(
                !commands.is_empty(),
                "woken at the deadline {} ms for nothing",
                self.check.ms(self.now)
            );
            for command in &commands {
                self.check.command(self.now, command, &Source::Tick)?;
            }
        }
        Err(TestCaseError::fail("deadlines without end"))
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let at = self.now + Duration::from_millis(op.after_ms);
        self.wake_until(at)?;
        self.now = at;
        self.check.none_overdue(at)?;
        match op.step {
            Step::Push {
                user,
                new_chat,
                sound,
            } => {
                let kind = match new_chat {
                    true => NotifyKind::NewChat,
                    false => NotifyKind::NewMessage,
                };
                let index = self.check.arrivals.len();
                let text = format!("m{index}");
                self.check.arrivals.push(Arrival {
                    at,
                    user,
                    kind,
                    text: text.clone(),
                });
                let incoming = Incoming {
                    user_id: user,
                    kind,
                    name: name(user),
                    text: Some(text),
                    file_path: None,
                };
                let commands = self.c.push(incoming, sound, at);
                let (to_digest, starts) = self.check.arrive(index);
                let shows = commands
                    .iter()
                    .filter(|c| matches!(c, Command::Show { .. }))
                    .count();
                prop_assert!(shows <= 1, "one arrival, {shows} shows: {commands:?}");
                if to_digest {
                    prop_assert!(
                        commands.iter().all(|c| matches!(
                            c,
                            Command::Close { .. }
                                | Command::Show {
                                    slot: Slot::Digest,
                                    ..
                                }
                        )),
                        "arrival {index} belongs to the digest: {commands:?}"
                    );
                    if starts {
                        // The chats' pending updates go into the digest, which counts them.
                        let flood = self.check.flood.as_ref().expect("just started");
                        let pending: Vec<usize> = std::mem::take(&mut self.check.owed_chat)
                            .into_values()
                            .flatten()
                            .collect();
                        for &i in &pending {
                            prop_assert!(
                                flood.members.contains(&i),
                                "arrival {i} was pending when the flood began, but is not in it"
                            );
                        }
                        self.check.owed_digest.extend(pending);
                        self.check.owed_digest.insert(index);
                    } else {
                        self.check.owed_digest.insert(index);
                    }
                } else {
                    prop_assert!(
                        commands.iter().all(|c| matches!(c,
                            Command::Show { slot: Slot::Chat(u), .. } if *u == user)),
                        "arrival {index} belongs to chat {user}: {commands:?}"
                    );
                    let entry = self.check.entry.entry(user).or_default();
                    let first = entry.is_empty();
                    entry.push(index);
                    self.check.owed_chat.entry(user).or_default().insert(index);
                    if first {
                        prop_assert_eq!(shows, 1, "the first message of chat {} waits", user);
                    }
                }
                let source = Source::Push {
                    arrival: index,
                    sound_wanted: sound,
                };
                for command in &commands {
                    self.check.command(at, command, &source)?;
                }
                if starts {
                    // Every chat's notification gave way to the digest.
                    self.check.entry.clear();
                }
            }
            Step::Dismiss(user) => {
                let command = self.c.dismiss(user);
                // The agent opened the chat: what its notification had pending has done its job.
                self.check.owed_chat.remove(&user);
                match command {
                    Some(command) => {
                        prop_assert_eq!(
                            &command,
                            &Command::Close {
                                slot: Slot::Chat(user)
                            }
                        );
                        self.check.command(at, &command, &Source::Dismiss)?;
                    }
                    None => self.check.end_chat(user),
                }
            }
            Step::Closed(slot) => {
                self.c.closed(slot);
                match slot {
                    // An update still pending in the chat's window outlives the notification
                    // and is shown when the window ends; without one, the chat starts over.
                    Slot::Chat(user)
                        if self.check.owed_chat.get(&user).is_none_or(|o| o.is_empty()) =>
                    {
                        self.check.end_chat(user);
                    }
                    // A closed digest is shown again at once if it has news.
                    Slot::Digest => {
                        self.check.last_show.remove(&Slot::Digest);
                    }
                    _ => {}
                }
            }
            Step::Wake => {
                // All deadlines up to now have fired: nothing is due.
                let commands = self.c.tick(at);
                prop_assert!(
                    commands.is_empty(),
                    "a tick before the deadline: {commands:?}"
                );
            }
        }
        Ok(())
    }
}

fn run(config: CoalesceConfig, ops: &[Op]) -> Result<(), TestCaseError> {
    let t0 = Instant::now();
    let mut run = Run {
        c: Coalescer::new(config),
        check: Check::new(config, t0),
        now: t0,
    };
    for op in ops {
        run.step(op)?;
    }
    let end = run.now + Duration::from_secs(3600);
    run.wake_until(end)?;
    prop_assert_eq!(
        run.c.next_deadline(),
        None,
        "a deadline with nothing pending"
    );
    prop_assert!(run.check.owed().next().is_none());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn coalescing_keeps_its_rules_for_any_arrivals(
        config in config_strategy(),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        run(config, &ops)?;
    }
}
