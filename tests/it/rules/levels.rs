//! RULES §2, levels: the codes, every row of the level table, and -1 stopping
//! the walk.

use chrono_tz::UTC;
use dnd_engine::{Conversation, ConversationType, Error, Layer, Level, Mentioned, Mentions, Message};

use crate::support::*;

#[test]
fn s2_level_codes_zero_is_not_set_and_three_is_invalid() {
    for (code, level) in [
        (-1, Level::All),
        (1, Level::Mentions),
        (2, Level::MentionsOfMe),
        (4, Level::MentionsOfAll),
        (5, Level::Nothing),
    ] {
        assert_eq!(Level::from_code(code), Ok(Some(level)));
        assert_eq!(level.code(), code);
    }
    assert_eq!(Level::from_code(0), Ok(None));
    for bad in [3, 6, -2, 100] {
        assert_eq!(Level::from_code(bad), Err(Error::Level(bad)));
    }
}

/// Every row of the §2 table, in a group and an ultra group, and in private
/// and system conversations, through the whole engine (the type level
/// decides).
#[test]
fn s2_every_row_of_the_level_table() {
    // (level, @none, @all, @me, @someone-else) in groups and ultra groups
    let table = [
        (-1, [true, true, true, true]),
        (1, [false, true, true, false]),
        (2, [false, false, true, false]),
        (4, [false, true, false, false]),
        (5, [false, false, false, false]),
    ];
    let me = ["r"];
    let other = ["x"];
    let mentions = [
        Mentions::None,
        Mentions::All,
        Mentions::Users(&me),
        Mentions::Users(&other),
    ];
    for (code, expected) in table {
        for t in ConversationType::ALL {
            let body = format!("conversationType={}&requestId=r&unpushLevel={code}", t.code());
            let s = settings(UTC, &[(TYPE, &body)]);
            let conversation = match t {
                ConversationType::Private => Conversation::Private,
                ConversationType::Group => group("g"),
                ConversationType::System => Conversation::System,
                _ => ultra("g", None),
            };
            for (m, &want_in_group) in mentions.iter().zip(&expected) {
                let msg = Message::new(conversation, "s", at(NOON_UTC)).with_mentions(*m);
                let d = decide(&s, &msg, "r");
                // In private and system conversations mentions are ignored:
                // -1 always pushes, every other level never does.
                let want = if t.mentions_count() { want_in_group } else { code == -1 };
                assert_eq!(d.push(), want, "level {code}, type {t}, mention {m:?}");
                assert_eq!(d.by(), Layer::UserConversationType);
                assert_eq!(d.level().map(Level::code), Some(code));
            }
        }
    }
}

#[test]
fn s2_level_pushes_as_a_function() {
    use Mentioned::*;
    assert!([No, All, Me].iter().all(|&m| Level::All.pushes(m)));
    assert!([No, All, Me].iter().all(|&m| !Level::Nothing.pushes(m)));
    assert_eq!([No, All, Me].map(|m| Level::Mentions.pushes(m)), [false, true, true]);
    assert_eq!(
        [No, All, Me].map(|m| Level::MentionsOfMe.pushes(m)),
        [false, false, true]
    );
    assert_eq!(
        [No, All, Me].map(|m| Level::MentionsOfAll.pushes(m)),
        [false, true, false]
    );
}

#[test]
fn s2_minus_one_stops_the_walk() {
    // The user's -1 on the type is an explicit choice: the admin's 5 below it never runs.
    let s = settings(
        UTC,
        &[
            (TYPE, "conversationType=10&requestId=r&unpushLevel=-1"),
            (DEFAULT, "groupId=g&unpushLevel=5"),
        ],
    );
    let d = decide(&s, &Message::new(ultra("g", None), "s", at(NOON_UTC)), "r");
    assert!(d.push());
    assert_eq!((d.by(), d.level()), (Layer::UserConversationType, Some(Level::All)));
}
