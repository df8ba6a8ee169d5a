//! Realistic, deterministic support-chat traffic.
//!
//! A handful of end users are "in conversation" at any time. Each follows the life of a real
//! chat: comes online, types, opens the chat (`new_chat` with the first message), types and
//! writes more messages, reads the agent's replies (widget users only: the protocol sends
//! `message_read` "for the widget"), and goes offline. The same seed gives the same events.

use chatbell_protocol::{
    Envelope, Event, MessageRead, NewChat, NewMessage, Presence, Timestamp, UserTyping,
};
use chrono::{DateTime, Utc};

// A Russian surname takes its bearer's gender (Иван Петров, Анна Петрова): a name is a first
// name of one list with the surname's form for that list.
const MEN_RU: &[&str] = &["Иван", "Алексей", "Дмитрий", "Сергей", "Никита", "Павел"];
const WOMEN_RU: &[&str] = &["Мария", "Ольга", "Анна", "Елена", "Татьяна", "Юлия"];
/// Each surname as (a man's, a woman's).
const SURNAMES_RU: &[(&str, &str)] = &[
    ("Петров", "Петрова"),
    ("Смирнов", "Смирнова"),
    ("Кузнецов", "Кузнецова"),
    ("Попов", "Попова"),
    ("Соколов", "Соколова"),
    ("Лебедев", "Лебедева"),
    ("Новиков", "Новикова"),
    ("Морозов", "Морозова"),
];
const FIRST_EN: &[&str] = &[
    "John", "Emma", "Liam", "Olivia", "Noah", "Ava", "James", "Sophia", "Lucas", "Mia",
];
const LAST_EN: &[&str] = &[
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Clark", "Walker",
];

const OPENERS_RU: &[&str] = &[
    "Привет!",
    "Здравствуйте, у меня вопрос по заказу",
    "Добрый день! Не могу оплатить картой",
    "Подскажите, пожалуйста, где мой заказ?",
];
const MESSAGES_RU: &[&str] = &[
    "Когда будет доставка?",
    "Номер заказа 48213",
    "Спасибо, жду",
    "А можно поменять адрес доставки?",
    "Оплата прошла, но статус не изменился",
    "Прикрепляю скриншот",
    "Курьер не приехал 😕",
    "Хорошо, спасибо большое!",
    "Можно вернуть товар, если не подошёл размер?",
];
const OPENERS_EN: &[&str] = &[
    "Hi!",
    "Hello, I have a question about my order",
    "Hey, the checkout page keeps failing",
    "Good morning, where is my package?",
];
const MESSAGES_EN: &[&str] = &[
    "When will it be delivered?",
    "Order number is 48213",
    "Thanks, I'll wait",
    "Can I change the delivery address?",
    "Payment went through but the status did not change",
    "Attached a screenshot",
    "The courier never came 😕",
    "Great, thank you so much!",
    "I wrote <b>bold</b> & <i>tags</i> — they should show as typed",
];
const FILES: &[&str] = &[
    "uploads/2026/01/screenshot.png",
    "uploads/2026/01/receipt.pdf",
    "uploads/2026/01/photo.jpg",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Arrived,
    TypingFirst,
    Opening,
    Chatting { remaining: u32 },
    Leaving,
}

#[derive(Debug, Clone)]
struct Person {
    user_id: i64,
    name: String,
    username: Option<String>,
    source: &'static str,
    russian: bool,
    stage: Stage,
}

/// A deterministic generator of protocol events.
#[derive(Debug, Clone)]
pub struct Traffic {
    rng: fastrand::Rng,
    next_message_id: i64,
    people: Vec<Person>,
    /// How many end users are in conversation at once.
    concurrency: usize,
}

impl Traffic {
    pub fn new(seed: u64) -> Self {
        Traffic {
            rng: fastrand::Rng::with_seed(seed),
            next_message_id: 1,
            people: Vec::new(),
            concurrency: 8,
        }
    }

    /// The next event of the stream, stamped `now`.
    pub fn next_event(&mut self, now: DateTime<Utc>) -> Envelope {
        if self.people.len() < self.concurrency && (self.people.is_empty() || self.rng.u8(..10) < 3)
        {
            let person = self.new_person();
            self.people.push(person);
        }
        let index = self.rng.usize(..self.people.len());
        let event = self.advance(index);
        Envelope::new(event, Timestamp::given(now))
    }

    /// The next event, as the JSON text frame the server sends.
    pub fn next_frame(&mut self, now: DateTime<Utc>) -> String {
        self.next_event(now).to_json()
    }

    fn new_person(&mut self) -> Person {
        let widget = self.rng.bool();
        let russian = self.rng.u8(..10) < 6;
        let name = if russian {
            let woman = self.rng.bool();
            let first = self.pick(if woman { WOMEN_RU } else { MEN_RU });
            let (his, hers) = SURNAMES_RU[self.rng.usize(..SURNAMES_RU.len())];
            format!("{first} {}", if woman { hers } else { his })
        } else {
            format!("{} {}", self.pick(FIRST_EN), self.pick(LAST_EN))
        };
        let (user_id, source, username) = if widget {
            (-self.rng.i64(1_000_000_000..9_999_999_999), "widget", None)
        } else {
            let handle = format!("user{}", self.rng.u32(1000..99999));
            (
                self.rng.i64(100_000_000..9_999_999_999),
                "telegram",
                Some(handle),
            )
        };
        Person {
            user_id,
            name,
            username,
            source,
            russian,
            stage: Stage::Arrived,
        }
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.rng.usize(..list.len())]
    }

    fn advance(&mut self, index: usize) -> Event {
        let p = self.people[index].clone();
        let (openers, messages) = if p.russian {
            (OPENERS_RU, MESSAGES_RU)
        } else {
            (OPENERS_EN, MESSAGES_EN)
        };
        let typing = || {
            Event::UserTyping(UserTyping {
                user_id: p.user_id,
                user_name: Some(p.name.clone()),
            })
        };
        let (event, next) = match p.stage {
            Stage::Arrived => (
                Event::UserOnline(Presence { user_id: p.user_id }),
                Stage::TypingFirst,
            ),
            Stage::TypingFirst => (typing(), Stage::Opening),
            Stage::Opening => {
                let event = Event::NewChat(NewChat {
                    user_id: p.user_id,
                    user_name: Some(p.name.clone()),
                    username: p.username.clone(),
                    source: Some(p.source.to_string()),
                    first_message: Some(self.pick(openers).to_string()),
                });
                (
                    event,
                    Stage::Chatting {
                        remaining: self.rng.u32(1..12),
                    },
                )
            }
            Stage::Chatting { remaining: 0 } => (
                Event::UserOffline(Presence { user_id: p.user_id }),
                Stage::Leaving,
            ),
            Stage::Chatting { remaining } => {
                let roll = self.rng.u8(..10);
                if roll < 3 {
                    (typing(), p.stage)
                } else if roll == 3 && p.user_id < 0 && self.next_message_id > 1 {
                    let event = Event::MessageRead(MessageRead {
                        user_id: p.user_id,
                        last_read_message_id: self.next_message_id - 1,
                    });
                    (event, p.stage)
                } else {
                    let file_path = (self.rng.u8(..12) == 0).then(|| self.pick(FILES).to_string());
                    let event = Event::NewMessage(NewMessage {
                        message_id: self.next_message_id,
                        user_id: p.user_id,
                        user_name: Some(p.name.clone()),
                        text: Some(self.pick(messages).to_string()),
                        file_path,
                        source: Some(p.source.to_string()),
                    });
                    self.next_message_id += 1;
                    (
                        event,
                        Stage::Chatting {
                            remaining: remaining - 1,
                        },
                    )
                }
            }
            Stage::Leaving => unreachable!("people who left are removed"),
        };
        if next == Stage::Leaving {
            self.people.swap_remove(index);
        } else {
            self.people[index].stage = next;
        }
        event
    }
}

/// Frames that break the protocol in different ways, for the `malformed` fault.
pub const MALFORMED: &[&str] = &[
    "this is not json",
    "{\"event\":\"new_message\",\"data\":{\"message_id\":\"seven\",\"user_id\":1}}",
    "{\"event\":\"new_chat\",\"data\":{}}",
    "[1,2,3]",
    "{\"event\":42}",
    "{\"event\":\"new_message\",\"data\":{\"message_id\":1,\"user_id\":1.5}}",
    "{\"event\":\"user_online\"",
    "{\"data\":{\"user_id\":1}}",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
];

#[cfg(test)]
mod tests {
    use super::*;
    use chatbell_protocol::{EventKind, parse_frame};
    use std::collections::{HashMap, HashSet};

    #[test]
    fn same_seed_gives_same_events() {
        let now = Utc::now();
        let a: Vec<_> = {
            let mut t = Traffic::new(7);
            (0..500).map(|_| t.next_frame(now)).collect()
        };
        let mut t = Traffic::new(7);
        let b: Vec<_> = (0..500).map(|_| t.next_frame(now)).collect();
        assert_eq!(a, b);
        let mut t = Traffic::new(8);
        let c: Vec<_> = (0..500).map(|_| t.next_frame(now)).collect();
        assert_ne!(a, c);
    }

    #[test]
    fn conversations_follow_the_protocol() {
        let now = Utc::now();
        let mut t = Traffic::new(1);
        let mut chats = HashSet::new();
        let mut last_id = 0;
        let mut kinds: HashMap<EventKind, usize> = HashMap::new();
        for _ in 0..20_000 {
            let frame = t.next_frame(now);
            let env = parse_frame(&frame, now).expect("generated frames parse");
            *kinds.entry(env.event.kind()).or_default() += 1;
            match env.event {
                Event::NewChat(c) => {
                    assert!(chats.insert(c.user_id), "one new_chat per user");
                    assert_eq!(
                        c.source.as_deref(),
                        Some(if c.user_id < 0 { "widget" } else { "telegram" })
                    );
                }
                Event::NewMessage(m) => {
                    assert!(chats.contains(&m.user_id), "messages come after new_chat");
                    assert!(m.message_id > last_id, "message ids increase");
                    last_id = m.message_id;
                }
                Event::MessageRead(r) => assert!(r.user_id < 0, "read receipts are for the widget"),
                _ => {}
            }
        }
        for kind in EventKind::KNOWN {
            assert!(
                kinds.get(&kind).copied().unwrap_or(0) > 100,
                "{kind:?}: {kinds:?}"
            );
        }
        assert!(chats.iter().any(|id| *id < 0) && chats.iter().any(|id| *id > 0));
    }

    #[test]
    fn russian_names_pair_a_first_name_with_the_surname_of_its_gender() {
        // The table itself: these surnames take an "а" in a woman's form.
        for (his, hers) in SURNAMES_RU {
            assert_eq!(*hers, format!("{his}а"));
        }
        let now = Utc::now();
        let mut t = Traffic::new(3);
        let (mut men, mut women) = (0, 0);
        for _ in 0..5_000 {
            let env = parse_frame(&t.next_frame(now), now).expect("generated frames parse");
            let Event::NewChat(chat) = env.event else {
                continue;
            };
            let name = chat.user_name.expect("a name");
            let (first, last) = name.split_once(' ').expect("first name and surname");
            let woman = match (WOMEN_RU.contains(&first), MEN_RU.contains(&first)) {
                (true, false) => true,
                (false, true) => false,
                _ => {
                    assert!(FIRST_EN.contains(&first), "{name}");
                    continue;
                }
            };
            let (his, hers) = SURNAMES_RU
                .iter()
                .find(|(his, hers)| *his == last || *hers == last)
                .unwrap_or_else(|| panic!("a Russian first name with another surname: {name}"));
            assert_eq!(last, if woman { *hers } else { *his }, "{name}");
            if woman {
                women += 1;
            } else {
                men += 1;
            }
        }
        assert!(men > 20 && women > 20, "men {men}, women {women}");
    }

    #[test]
    fn malformed_samples_are_all_rejected() {
        for frame in MALFORMED {
            assert!(parse_frame(frame, Utc::now()).is_err(), "{frame}");
        }
    }
}
