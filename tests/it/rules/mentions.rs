//! RULES §3, mentions: an empty list, private and system messages, and users
//! the settings do not know.

use chrono_tz::UTC;
use dnd_engine::{Config, Conversation, ConversationType, Layer, Level, Mentions, Message};

use crate::support::*;

#[test]
fn s3_an_empty_list_mentions_no_one() {
    let s = settings(UTC, &[(TYPE, "conversationType=3&requestId=r&unpushLevel=1")]);
    let msg = Message::new(group("g"), "s", at(NOON_UTC)).with_mentions(Mentions::Users(&[]));
    assert!(!decide(&s, &msg, "r").push());
}

#[test]
fn s3_mentions_are_ignored_in_private_and_system_messages() {
    let s = settings(
        UTC,
        &[
            (TYPE, "conversationType=1&requestId=r&unpushLevel=1"),
            (TYPE, "conversationType=6&requestId=r&unpushLevel=4"),
        ],
    );
    let me = ["r"];
    let private = Message::new(Conversation::Private, "s", at(NOON_UTC)).with_mentions(Mentions::Users(&me));
    assert!(!decide(&s, &private, "r").push());
    let system = Message::new(Conversation::System, "s", at(NOON_UTC)).with_mentions(Mentions::All);
    assert!(!decide(&s, &system, "r").push());
}

#[test]
fn s3_a_mention_of_a_user_the_settings_do_not_know_still_counts() {
    // "r" has set nothing, so it is not in the settings at all; the app default reads mentions.
    let s = settings_with(
        Config::new(UTC).with_app_default(ConversationType::Group, Level::MentionsOfMe),
        &[],
    );
    let me = ["r"];
    let msg = Message::new(group("g"), "s", at(NOON_UTC)).with_mentions(Mentions::Users(&me));
    let d = decide(&s, &msg, "r");
    assert!(d.push());
    assert_eq!(d.by(), Layer::AppDefault);
    assert!(!decide(&s, &msg, "q").push());
}
