//! Turns a stream of allowed notifications into few, useful ones.
//!
//! - The first message of a chat shows at once (no added latency).
//! - Further messages of that chat within `chat_window` update the same notification in place
//!   (replaces-id) when the window ends, with a count: one live notification per chat.
//! - When more than `digest_chats` chats fire within `digest_window`, per-chat notifications
//!   give way to one digest ("12 messages in 5 chats") until the flood stops.
//! - Sound is rate-limited on its own: a message sounds at most once per `sound_interval`
//!   after any sound; a new chat only after another new chat's sound that recent, so a
//!   message's sound just before never swallows a new chat's.
//!
//! Pure: time is an argument, so floods and quiet spells are tested without sleeping.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use chatbell_protocol::UserId;

use crate::model::{NotifyKind, Slot};
use crate::sound::SoundKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoalesceConfig {
    pub chat_window: Duration,
    pub digest_chats: usize,
    pub digest_window: Duration,
    pub sound_interval: Duration,
    /// Live chat notifications remembered; the oldest is forgotten beyond this.
    pub max_live: usize,
}

impl Default for CoalesceConfig {
    fn default() -> Self {
        CoalesceConfig {
            chat_window: Duration::from_secs(3),
            digest_chats: 3,
            digest_window: Duration::from_secs(10),
            sound_interval: Duration::from_secs(10),
            max_live: 64,
        }
    }
}

/// An allowed notification, as it enters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub user_id: UserId,
    pub kind: NotifyKind,
    pub name: String,
    pub text: Option<String>,
    pub file_path: Option<String>,
}

/// What a notification says, before it is put into words of a language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Chat {
        user_id: UserId,
        name: String,
        /// `NewChat` while the chat's first notification is still the live one.
        kind: NotifyKind,
        /// Messages this notification stands for.
        count: u32,
        text: Option<String>,
        file_path: Option<String>,
    },
    Digest {
        messages: u32,
        chats: u32,
        /// A few of the chats' names, most recent first.
        names: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Show {
        slot: Slot,
        content: Content,
        /// The sound to play with it, if any.
        sound: Option<SoundKind>,
    },
    Close {
        slot: Slot,
    },
}

#[derive(Debug)]
struct Live {
    content: Content,
    shown_at: Instant,
    dirty: bool,
}

#[derive(Debug)]
struct Digest {
    messages: u32,
    chats: HashSet<UserId>,
    names: Vec<String>,
    shown_at: Option<Instant>,
    last_activity: Instant,
    dirty: bool,
}

#[derive(Debug)]
pub struct Coalescer {
    config: CoalesceConfig,
    live: HashMap<UserId, Live>,
    /// The arrivals of the last `digest_window` while no flood runs (a flood's arrivals go to
    /// the digest: see [`Coalescer::start_digest`]).
    recent: VecDeque<(Instant, UserId, String)>,
    digest: Option<Digest>,
    last_sound: Option<Instant>,
    last_new_chat_sound: Option<Instant>,
}

const DIGEST_NAMES: usize = 3;

impl Coalescer {
    pub fn new(config: CoalesceConfig) -> Self {
        Coalescer {
            config,
            live: HashMap::new(),
            recent: VecDeque::new(),
            digest: None,
            last_sound: None,
            last_new_chat_sound: None,
        }
    }

    fn sound(&mut self, wanted: bool, new_chat: bool, now: Instant) -> Option<SoundKind> {
        let last = match new_chat {
            true => self.last_new_chat_sound,
            false => self.last_sound,
        };
        let allowed =
            wanted && last.is_none_or(|t| now.duration_since(t) >= self.config.sound_interval);
        if !allowed {
            return None;
        }
        self.last_sound = Some(now);
        if new_chat {
            self.last_new_chat_sound = Some(now);
            Some(SoundKind::NewChat)
        } else {
            Some(SoundKind::NewMessage)
        }
    }

    fn digest_active(&self, now: Instant) -> bool {
        self.digest
            .as_ref()
            .is_some_and(|d| now.duration_since(d.last_activity) < self.config.digest_window)
    }

    /// An allowed notification arrives; returns what to do now.
    pub fn push(&mut self, incoming: Incoming, sound_wanted: bool, now: Instant) -> Vec<Command> {
        let new_chat = incoming.kind == NotifyKind::NewChat;
        if self.digest_active(now) {
            let d = self.digest.as_mut().expect("an active digest");
            d.messages += 1;
            d.last_activity = now;
            d.dirty = true;
            d.chats.insert(incoming.user_id);
            d.names.retain(|n| n != &incoming.name);
            d.names.insert(0, incoming.name);
            d.names.truncate(DIGEST_NAMES);
            return self.digest_due(sound_wanted, new_chat, now);
        }

        let window = self.config.digest_window;
        while self
            .recent
            .front()
            .is_some_and(|(t, _, _)| now.duration_since(*t) >= window)
        {
            self.recent.pop_front();
        }
        self.recent
            .push_back((now, incoming.user_id, incoming.name.clone()));
        let mut distinct: Vec<UserId> = Vec::new();
        for (_, user, _) in self.recent.iter().rev() {
            if !distinct.contains(user) {
                distinct.push(*user);
                if distinct.len() > self.config.digest_chats {
                    return self.start_digest(sound_wanted, new_chat, now);
                }
            }
        }

        let mut commands = Vec::new();
        match self.live.get_mut(&incoming.user_id) {
            Some(live) => {
                if let Content::Chat {
                    count,
                    text,
                    file_path,
                    name,
                    ..
                } = &mut live.content
                {
                    *count += 1;
                    *text = incoming.text;
                    *file_path = incoming.file_path;
                    *name = incoming.name;
                }
                live.dirty = true;
                if now.duration_since(live.shown_at) >= self.config.chat_window {
                    commands.extend(self.show_chat(incoming.user_id, sound_wanted, new_chat, now));
                }
            }
            None => {
                if self.live.len() >= self.config.max_live {
                    let oldest = self
                        .live
                        .iter()
                        .min_by_key(|(_, l)| l.shown_at)
                        .map(|(u, _)| *u);
                    if let Some(user) = oldest {
                        self.live.remove(&user);
                    }
                }
                let content = Content::Chat {
                    user_id: incoming.user_id,
                    name: incoming.name,
                    kind: incoming.kind,
                    count: 1,
                    text: incoming.text,
                    file_path: incoming.file_path,
                };
                self.live.insert(
                    incoming.user_id,
                    Live {
                        content,
                        shown_at: now,
                        dirty: true,
                    },
                );
                commands.extend(self.show_chat(incoming.user_id, sound_wanted, new_chat, now));
            }
        }
        commands
    }

    /// More than `digest_chats` chats within the window: a flood starts, and the per-chat
    /// notifications give way to one digest. The flood lasts while arrivals are less than
    /// `digest_window` apart, and by the time it ends every arrival it saw is at least
    /// `digest_window` old (time only moves forward here): so the window's list is handed to
    /// the digest, and no arrival of the flood is kept in it (a burst's thousands would
    /// otherwise stay in memory until the next message).
    fn start_digest(&mut self, sound_wanted: bool, new_chat: bool, now: Instant) -> Vec<Command> {
        let recent = std::mem::take(&mut self.recent);
        let messages = recent.len() as u32;
        let mut chats = HashSet::new();
        let mut names: Vec<String> = Vec::new();
        for (_, user, name) in recent.into_iter().rev() {
            chats.insert(user);
            if names.len() < DIGEST_NAMES && !names.contains(&name) {
                names.push(name);
            }
        }
        let shown_at = self.digest.take().and_then(|d| d.shown_at);
        self.digest = Some(Digest {
            messages,
            chats,
            names,
            shown_at,
            last_activity: now,
            dirty: true,
        });
        let mut closing: Vec<UserId> = self.live.drain().map(|(user, _)| user).collect();
        closing.sort_unstable();
        let mut commands: Vec<Command> = closing
            .into_iter()
            .map(|user| Command::Close {
                slot: Slot::Chat(user),
            })
            .collect();
        commands.extend(self.digest_due(sound_wanted, new_chat, now));
        commands
    }

    /// Shows the digest now unless it was shown less than `chat_window` ago.
    fn digest_due(&mut self, sound_wanted: bool, new_chat: bool, now: Instant) -> Vec<Command> {
        let due = self.digest.as_ref().is_some_and(|d| {
            d.shown_at
                .is_none_or(|t| now.duration_since(t) >= self.config.chat_window)
        });
        match due {
            true => self
                .show_digest(sound_wanted, new_chat, now)
                .into_iter()
                .collect(),
            false => Vec::new(),
        }
    }

    fn show_chat(
        &mut self,
        user_id: UserId,
        sound_wanted: bool,
        new_chat: bool,
        now: Instant,
    ) -> Option<Command> {
        let sound = self.sound(sound_wanted, new_chat, now);
        let live = self.live.get_mut(&user_id)?;
        live.shown_at = now;
        live.dirty = false;
        Some(Command::Show {
            slot: Slot::Chat(user_id),
            content: live.content.clone(),
            sound,
        })
    }

    fn show_digest(&mut self, sound_wanted: bool, new_chat: bool, now: Instant) -> Option<Command> {
        let sound = self.sound(sound_wanted, new_chat, now);
        let d = self.digest.as_mut()?;
        d.shown_at = Some(now);
        d.dirty = false;
        let content = Content::Digest {
            messages: d.messages,
            chats: d.chats.len() as u32,
            names: d.names.clone(),
        };
        Some(Command::Show {
            slot: Slot::Digest,
            content,
            sound,
        })
    }

    /// Shows the updates whose window has passed; call at [`Coalescer::next_deadline`].
    pub fn tick(&mut self, now: Instant) -> Vec<Command> {
        let window = self.config.chat_window;
        let mut due: Vec<UserId> = self
            .live
            .iter()
            .filter(|(_, l)| l.dirty && now.duration_since(l.shown_at) >= window)
            .map(|(u, _)| *u)
            .collect();
        due.sort_unstable();
        // Updates of a burst already announced: no new sound.
        let mut commands: Vec<Command> = due
            .into_iter()
            .filter_map(|u| self.show_chat(u, false, false, now))
            .collect();
        let digest_owed = self
            .digest
            .as_ref()
            .is_some_and(|d| d.dirty && d.shown_at.is_none_or(|t| now.duration_since(t) >= window));
        if digest_owed {
            commands.extend(self.show_digest(false, false, now));
        }
        commands
    }

    /// When [`Coalescer::tick`] has something to do; `None` when nothing is pending.
    pub fn next_deadline(&self) -> Option<Instant> {
        let window = self.config.chat_window;
        let chats = self
            .live
            .values()
            .filter(|l| l.dirty)
            .map(|l| l.shown_at + window);
        let digest = self
            .digest
            .as_ref()
            .filter(|d| d.dirty)
            .map(|d| d.shown_at.map_or(d.last_activity, |t| t + window));
        chats.chain(digest).min()
    }

    /// The agent opened the chat: its notification has done its job.
    pub fn dismiss(&mut self, user_id: UserId) -> Option<Command> {
        self.live.remove(&user_id).map(|_| Command::Close {
            slot: Slot::Chat(user_id),
        })
    }

    /// The notification server closed a notification (expired, or dismissed by the user): the
    /// next message starts a new one instead of updating a notification that is gone.
    pub fn closed(&mut self, slot: Slot) {
        match slot {
            // A message still waiting for the chat's window is not dropped with the notification:
            // the window's end shows it, as a new one.
            Slot::Chat(user) => {
                if self.live.get(&user).is_none_or(|l| !l.dirty) {
                    self.live.remove(&user);
                }
            }
            Slot::Digest => {
                if let Some(d) = &mut self.digest {
                    d.shown_at = None;
                }
            }
            // The reminders' digest, the connection's warning and forwarding's words are the
            // notifier's.
            Slot::Waiting | Slot::Connection | Slot::Away | Slot::Forward => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(user_id: UserId, text: &str) -> Incoming {
        Incoming {
            user_id,
            kind: NotifyKind::NewMessage,
            name: format!("U{user_id}"),
            text: Some(text.into()),
            file_path: None,
        }
    }

    fn shows(cmds: &[Command]) -> Vec<(Slot, u32, bool)> {
        cmds.iter()
            .filter_map(|c| match c {
                Command::Show {
                    slot,
                    content: Content::Chat { count, .. },
                    sound,
                } => Some((*slot, *count, sound.is_some())),
                Command::Show {
                    slot,
                    content: Content::Digest { messages, .. },
                    sound,
                } => Some((*slot, *messages, sound.is_some())),
                Command::Close { .. } => None,
            })
            .collect()
    }

    #[test]
    fn first_message_shows_at_once_and_a_burst_updates_in_place() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut c = Coalescer::new(CoalesceConfig::default());
        assert_eq!(
            shows(&c.push(msg(1, "a"), true, t0)),
            [(Slot::Chat(1), 1, true)]
        );
        assert!(
            c.push(msg(1, "b"), true, t0 + ms(100)).is_empty(),
            "held within the window"
        );
        assert!(c.push(msg(1, "c"), true, t0 + ms(200)).is_empty());
        assert_eq!(c.next_deadline(), Some(t0 + ms(3000)));
        assert!(c.tick(t0 + ms(2999)).is_empty());
        let cmds = c.tick(t0 + ms(3000));
        assert_eq!(
            shows(&cmds),
            [(Slot::Chat(1), 3, false)],
            "one update with the count, no second sound"
        );
        let Command::Show {
            content: Content::Chat { text, .. },
            ..
        } = &cmds[0]
        else {
            panic!()
        };
        assert_eq!(text.as_deref(), Some("c"), "the latest text");
        assert_eq!(c.next_deadline(), None, "nothing pending: no wakeups");
        // After the window a new message updates at once; the sound limit has passed too.
        assert_eq!(
            shows(&c.push(msg(1, "d"), true, t0 + ms(13_000))),
            [(Slot::Chat(1), 4, true)]
        );
    }

    #[test]
    fn many_chats_at_once_become_one_digest() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut c = Coalescer::new(CoalesceConfig::default());
        for user in 1..=3 {
            let cmds = c.push(msg(user, "x"), true, t0 + ms(user as u64));
            assert_eq!(shows(&cmds).len(), 1);
        }
        let cmds = c.push(msg(4, "x"), true, t0 + ms(10));
        let closes: Vec<_> = cmds
            .iter()
            .filter(|c| matches!(c, Command::Close { .. }))
            .cloned()
            .collect();
        assert_eq!(
            closes,
            (1..=3)
                .map(|u| Command::Close {
                    slot: Slot::Chat(u)
                })
                .collect::<Vec<_>>()
        );
        assert_eq!(
            shows(&cmds),
            [(Slot::Digest, 4, false)],
            "sound was used by the first chat 10 ms ago"
        );
        // The flood goes on: the digest is updated at most once per window.
        for i in 0..50 {
            assert!(shows(&c.push(msg(5 + i % 7, "x"), true, t0 + ms(100 + i as u64))).is_empty());
        }
        let cmds = c.tick(t0 + ms(3010));
        let [
            Command::Show {
                content:
                    Content::Digest {
                        messages,
                        chats,
                        names,
                    },
                ..
            },
        ] = cmds.as_slice()
        else {
            panic!("{cmds:?}")
        };
        assert_eq!((*messages, *chats), (54, 11));
        assert_eq!(names.len(), 3);
        // Quiet for the digest window: back to per-chat notifications.
        let later = t0 + ms(20_000);
        assert_eq!(
            shows(&c.push(msg(1, "again"), true, later)),
            [(Slot::Chat(1), 1, true)]
        );
    }

    #[test]
    fn a_flood_counts_every_arrival_and_keeps_none() {
        let t0 = Instant::now();
        let mut c = Coalescer::new(CoalesceConfig::default());
        for i in 0..2_000u64 {
            let at = t0 + Duration::from_micros(i * 200);
            c.push(msg(i as i64 % 50, "x"), false, at);
        }
        assert!(c.recent.is_empty(), "{} arrivals kept", c.recent.len());
        let cmds = c.tick(t0 + Duration::from_secs(4));
        let [
            Command::Show {
                content: Content::Digest {
                    messages, chats, ..
                },
                ..
            },
        ] = cmds.as_slice()
        else {
            panic!("{cmds:?}")
        };
        assert_eq!((*messages, *chats), (2_000, 50));
    }

    #[test]
    fn sound_is_rate_limited_across_chats() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut c = Coalescer::new(CoalesceConfig::default());
        assert_eq!(
            shows(&c.push(msg(1, "x"), true, t0)),
            [(Slot::Chat(1), 1, true)]
        );
        assert_eq!(
            shows(&c.push(msg(2, "x"), true, t0 + s(1))),
            [(Slot::Chat(2), 1, false)]
        );
        assert_eq!(
            shows(&c.push(msg(3, "x"), true, t0 + s(11))),
            [(Slot::Chat(3), 1, true)]
        );
        assert_eq!(
            shows(&c.push(msg(9, "x"), false, t0 + s(30))),
            [(Slot::Chat(9), 1, false)],
            "sound off"
        );
    }

    #[test]
    fn a_new_chat_sounds_even_right_after_a_message_but_not_after_another_new_chat() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let new_chat = |user_id| Incoming {
            kind: NotifyKind::NewChat,
            ..msg(user_id, "hi")
        };
        let sound = |cmds: &[Command]| match cmds {
            [Command::Show { sound, .. }] => *sound,
            other => panic!("{other:?}"),
        };
        let mut c = Coalescer::new(CoalesceConfig {
            digest_chats: 100,
            ..CoalesceConfig::default()
        });
        assert_eq!(
            sound(&c.push(msg(1, "x"), true, t0)),
            Some(SoundKind::NewMessage)
        );
        assert_eq!(
            sound(&c.push(new_chat(2), true, t0 + s(1))),
            Some(SoundKind::NewChat)
        );
        assert_eq!(sound(&c.push(new_chat(3), true, t0 + s(2))), None);
        assert_eq!(sound(&c.push(msg(4, "x"), true, t0 + s(5))), None);
        assert_eq!(
            sound(&c.push(new_chat(5), true, t0 + s(11))),
            Some(SoundKind::NewChat)
        );
    }

    #[test]
    fn dismissed_and_closed_chats_start_fresh() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut c = Coalescer::new(CoalesceConfig::default());
        c.push(msg(1, "a"), false, t0);
        c.push(msg(1, "b"), false, t0 + s(1));
        assert_eq!(
            c.dismiss(1),
            Some(Command::Close {
                slot: Slot::Chat(1)
            })
        );
        assert_eq!(c.dismiss(1), None);
        assert!(
            c.tick(t0 + s(5)).is_empty(),
            "the pending update went with the dismissal"
        );
        assert_eq!(
            shows(&c.push(msg(1, "c"), false, t0 + s(6))),
            [(Slot::Chat(1), 1, false)]
        );
        c.closed(Slot::Chat(1));
        assert_eq!(
            shows(&c.push(msg(1, "d"), false, t0 + s(7))),
            [(Slot::Chat(1), 1, false)]
        );
    }

    #[test]
    fn live_notifications_are_bounded() {
        let t0 = Instant::now();
        let config = CoalesceConfig {
            max_live: 2,
            digest_chats: 100,
            ..CoalesceConfig::default()
        };
        let mut c = Coalescer::new(config);
        for user in 0..5 {
            c.push(
                msg(user, "x"),
                false,
                t0 + Duration::from_millis(user as u64),
            );
        }
        assert_eq!(c.live.len(), 2);
    }
}
