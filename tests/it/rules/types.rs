//! RULES §1, conversation types: the four codes and where mentions count.

use dnd_engine::{ConversationType, Error};

#[test]
fn s1_the_four_types_and_no_other() {
    for (code, t) in [
        (1, ConversationType::Private),
        (3, ConversationType::Group),
        (6, ConversationType::System),
        (10, ConversationType::UltraGroup),
    ] {
        assert_eq!(ConversationType::from_code(code), Ok(t));
        assert_eq!(t.code(), code);
    }
    for bad in [0, 2, 4, 5, 7, 9, 11, -1, i64::MAX] {
        assert_eq!(ConversationType::from_code(bad), Err(Error::ConversationType(bad)));
    }
}

#[test]
fn s1_mentions_count_in_groups_and_ultra_groups_only() {
    assert!(ConversationType::Group.mentions_count());
    assert!(ConversationType::UltraGroup.mentions_count());
    assert!(!ConversationType::Private.mentions_count());
    assert!(!ConversationType::System.mentions_count());
}
