//! Keywords through the fanout's fast batch paths (`docs/rules.md` §11):
//! on large worlds where from a handful of users to all of them have
//! keywords, every recipient's decision is the naive oracle's (which
//! searches each recipient's keywords in the text on its own), for texts
//! that hold some users' keywords and texts that hold none, alone and with
//! the other reasons to leave the table path (a sender somebody lists as a
//! VIP, an urgent message, mentions), in every conversation type.

use dnd_engine::{Conversation, Mentions, Message};
use proptest::prelude::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::fanout::{apply, check, some_instant, some_mentioned, world_with_policy};

/// Words of several scripts, and made-up ones, that keywords and texts are
/// made of.
const WORDS: [&str; 12] = [
    "deploy",
    "Bob",
    "bobby",
    "张三",
    "会议",
    "Straße",
    "STRASSE",
    "привет",
    "राम",
    "c++",
    "김철수",
    "on-call",
];

fn word(rng: &mut SmallRng) -> String {
    match rng.gen_range(0..3) {
        0 => WORDS[rng.gen_range(0..WORDS.len())].to_owned(),
        _ => format!("w{}", rng.gen_range(0..400)),
    }
}

fn text(rng: &mut SmallRng) -> String {
    const GLUE: [&str; 5] = [" ", ", ", "!", "请", "_"];
    (0..rng.gen_range(0..40))
        .map(|_| format!("{}{}", word(rng), GLUE[rng.gen_range(0..GLUE.len())]))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// RULES §4 and §11 on worlds of 2,000 to 6,000 users where a share of
    /// them (from one in two thousand to every one) set one to five
    /// keywords, some of which are then replaced or cleared: the fanout
    /// reads the keyword holders' bitmap alone when the keywords are the
    /// only reason to leave the table, and every bitmap otherwise; both
    /// agree with the oracle on every recipient through every batch path.
    #[test]
    fn the_fast_fanout_agrees_with_the_oracle_on_worlds_with_keywords(seed in any::<u64>()) {
        let users = 2_000 + (seed % 4_000) as usize;
        let mut w = world_with_policy(seed, users);
        let mut rng = SmallRng::seed_from_u64(seed ^ 0x6b77);
        let share = [0.0005, 0.05, 0.5, 1.0][rng.gen_range(0..4)];
        for round in 0..2 {
            for i in 0..users {
                // The second round changes a tenth of what the first set.
                if rng.gen_bool(if round == 0 { share } else { share / 10.0 }) {
                    let keywords: Vec<String> = match round == 1 && rng.gen_bool(0.5) {
                        true => Vec::new(),
                        false => (0..rng.gen_range(1..=5)).map(|_| word(&mut rng)).collect(),
                    };
                    let json = serde_json::to_string(&keywords).unwrap();
                    let json: String = form_urlencoded::byte_serialize(json.as_bytes()).collect();
                    let body = format!("userId={}&keywords={json}", w.ids[i]);
                    apply(&mut w, "/user/keywords/set.json", &body);
                }
            }
        }
        let instant = some_instant(&mut rng);
        let mentioned = some_mentioned(&mut rng, &w, users);
        let text = text(&mut rng);
        let listed = w.ids[rng.gen_range(0..10)].clone();
        let sender = w.ids[rng.gen_range(10..users)].clone();
        for conversation in [
            Conversation::Private,
            Conversation::Group { group_id: "team" },
            Conversation::UltraGroup { group_id: "club", bus_channel: None },
            Conversation::UltraGroup { group_id: "club", bus_channel: Some("talk") },
        ] {
            for text in [text.as_str(), "nothing of anybody's here", "w7, 张三 and c++!"] {
                let m = Message::new(conversation, &sender, instant).with_text(text);
                check(&w, &m, &mut rng);
                // One of the other reasons to leave the table besides.
                let other = match rng.gen_range(0..3) {
                    0 => m.with_mentions(Mentions::Users(&mentioned)),
                    1 => Message::new(conversation, &listed, instant).with_text(text),
                    _ => m.with_urgent(),
                };
                check(&w, &other, &mut rng);
            }
        }
    }
}
