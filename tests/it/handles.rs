//! A user handle is checked against the settings that issued it: from other
//! settings it is an error, never another user's decision.

use chrono_tz::UTC;
use dnd_engine::{Error, Recipient, Settings, SharedSettings, UserHandle, UserId};

use crate::support::*;

fn user(id: &str) -> UserId {
    UserId::new(id).unwrap()
}

/// Settings where "muted" has level 5 on groups and "loud" has -1.
fn world() -> Settings {
    settings(
        UTC,
        &[
            (TYPE, "conversationType=3&requestId=muted&unpushLevel=5"),
            (TYPE, "conversationType=3&requestId=loud&unpushLevel=-1"),
        ],
    )
}

/// Every way to decide by handle refuses `h` with `expected`, and leaves the
/// buffer empty.
fn refused_everywhere(s: &Settings, h: UserHandle, good: UserHandle, expected: &Error) {
    let message = dnd_engine::Message::new(group("g"), "s", at(NOON_UTC));
    let p = s.prepare(&message);
    assert_eq!(p.decide(h).as_ref(), Err(expected));
    assert_eq!(p.decide_for(Recipient::Handle(h)).as_ref(), Err(expected));
    assert_eq!(p.explain(Recipient::Handle(h)).err().as_ref(), Some(expected));
    assert_eq!(p.decisions(&[good, h]).err().as_ref(), Some(expected));
    // In a batch, wherever it is: first, after a full chunk of good ones, last.
    for at in [0, 64, 130] {
        let mut batch = vec![good; 131];
        batch[at] = h;
        let mut out = vec![p.decide(good).unwrap()];
        assert_eq!(p.decide_into(&batch, &mut out).as_ref(), Err(expected));
        assert!(out.is_empty());
        let mut bits = vec![1];
        assert_eq!(p.push_bits_into(&batch, &mut bits).as_ref(), Err(expected));
        assert!(bits.is_empty());
        // Only decisions before the refused handle were handed over, in order.
        let mut handed = Vec::new();
        assert_eq!(p.decide_each(&batch, |i, _| handed.push(i)).as_ref(), Err(expected));
        assert!(
            handed.iter().copied().eq(0..handed.len()) && handed.len() <= at,
            "{handed:?}"
        );
        #[cfg(feature = "parallel")]
        {
            let two = std::num::NonZeroUsize::new(2).unwrap();
            let mut out = vec![p.decide(good).unwrap()];
            assert_eq!(p.decide_into_parallel(&batch, &mut out, two).as_ref(), Err(expected));
            assert!(out.is_empty());
        }
    }
    assert_eq!(s.user_id(h), None);
}

#[test]
fn foreign_handle_is_an_error() {
    // In b, a's number for "loud" is "other"'s: unchecked, a's handle would
    // decide for b's "other".
    let mut a = world();
    let mut b = settings(UTC, &[(TYPE, "conversationType=3&requestId=muted&unpushLevel=5")]);
    let a_loud = a.intern_user(&user("loud")).unwrap();
    let b_muted = b.intern_user(&user("muted")).unwrap();
    let b_other = b.intern_user(&user("other")).unwrap();
    let b_loud = b.intern_user(&user("loud")).unwrap();
    assert_eq!(a_loud.index(), b_other.index());
    refused_everywhere(&b, a_loud, b_muted, &Error::ForeignHandle(a_loud.index() as u32));

    // The settings' own handles decide as ids do.
    let message = dnd_engine::Message::new(group("g"), "s", at(NOON_UTC));
    let p = b.prepare(&message);
    assert_eq!(p.decide(b_loud).unwrap(), p.decide_id("loud"));
    let mut out = Vec::new();
    p.decide_into(&[b_muted, b_loud], &mut out).unwrap();
    assert_eq!(out, [p.decide_id("muted"), p.decide_id("loud")]);

    // A clone is other settings: it numbers the same users the same way but
    // refuses the original's handles, and the original refuses its.
    let mut clone = a.clone();
    let clone_loud = clone.user("loud").unwrap();
    assert_eq!(clone_loud.index(), a_loud.index());
    refused_everywhere(&clone, a_loud, clone_loud, &Error::ForeignHandle(a_loud.index() as u32));
    // The two may go on to number different users under the same number.
    let x = a.intern_user(&user("x")).unwrap();
    let y = clone.intern_user(&user("y")).unwrap();
    assert_eq!(x.index(), y.index());
    refused_everywhere(&a, y, a_loud, &Error::ForeignHandle(y.index() as u32));

    // The clone decides as the original, by its own handles, also for a user
    // whose settings carry time (a snooze, kept apart from the record).
    let snoozed = "userId=loud&until=4000000000000";
    assert_eq!(a.handle("/user/snooze/set.json", snoozed.as_bytes()).code(), 200);
    let clone = a.clone();
    let message = dnd_engine::Message::new(group("g"), "s", at(NOON_UTC));
    let (p, q) = (a.prepare(&message), clone.prepare(&message));
    assert_eq!(p.decide_id("loud").by(), dnd_engine::Layer::UserSnooze);
    assert_eq!(
        q.decide(clone.user("loud").unwrap()).unwrap(),
        p.decide(a_loud).unwrap()
    );
    assert_eq!(q.decide_id("loud"), p.decide_id("loud"));

    // Across a save and restore the numbers are kept, the handles are not.
    let restored: Settings = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
    let restored_loud = restored.user("loud").unwrap();
    assert_eq!(restored_loud.index(), a_loud.index());
    refused_everywhere(
        &restored,
        a_loud,
        restored_loud,
        &Error::ForeignHandle(a_loud.index() as u32),
    );

    // Shared settings keep their handles valid in every version from the one
    // that numbered them on; an older version refuses a newer number.
    let before = a.intern_user(&user("before")).unwrap();
    let shared = SharedSettings::new(a);
    let old = shared.read();
    let newer = shared.intern_user(&user("newer")).unwrap();
    let now = shared.read();
    assert_eq!(
        now.prepare(&message).decide(before).unwrap(),
        now.prepare(&message).decide_id("before")
    );
    assert!(now.prepare(&message).decide(newer).is_ok());
    refused_everywhere(
        &old,
        newer,
        before,
        &Error::HandleNotYetNumbered {
            index: newer.index() as u32,
            users: old.user_count(),
        },
    );
    assert!(
        Error::HandleNotYetNumbered { index: 7, users: 3 }
            .to_string()
            .contains("#7"),
        "the text names the handle"
    );
}
