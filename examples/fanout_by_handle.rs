//! A push service's fanout loop, by handle: members are interned once (when
//! they join), each message is prepared once, and each batch of recipients
//! is decided into a buffer the loop keeps, with no allocation per
//! recipient.
//!
//! ```sh
//! cargo run --example fanout_by_handle
//! ```

use dnd_engine::chrono_tz::Asia::Shanghai;
use dnd_engine::{Config, Conversation, Decision, Mentions, Message, Settings, Timestamp, UserHandle, UserId};

fn main() -> Result<(), dnd_engine::Error> {
    let mut settings = Settings::new(Config::new(Shanghai));
    // Settings arrive as the platform's requests.
    let set = settings.handle(
        "/user/blockPushPeriod/set.json",
        b"userId=u7&startTime=22:00:00&period=540&level=5",
    );
    assert_eq!(set.code(), 200);
    let set = settings.handle("/ultragroup/notdisturb/set.json", b"groupId=club&unpushLevel=1");
    assert_eq!(set.code(), 200);

    // The group's members, interned once: a handle is a small number.
    let members: Vec<UserHandle> = (0..10_000)
        .map(|i| settings.intern_user(&UserId::new(&format!("u{i}"))?))
        .collect::<Result<_, _>>()?;

    // The buffer the loop keeps: decide_into clears and refills it.
    let mut decisions: Vec<Decision> = Vec::with_capacity(1024);
    let messages = [
        ("2026-11-22T23:30:00+08:00", Mentions::None),
        ("2026-11-23T09:00:00+08:00", Mentions::All),
    ];
    for (at, mentions) in messages {
        let at: Timestamp = at.parse()?;
        let message = Message::new(
            Conversation::UltraGroup {
                group_id: "club",
                bus_channel: None,
            },
            "u1",
            at,
        )
        .with_mentions(mentions);
        // Once per message: the time in each zone, the conversation's defaults.
        let prepared = settings.prepare(&message);
        let mut pushes = 0;
        for batch in members.chunks(1024) {
            prepared.decide_into(batch, &mut decisions)?;
            pushes += decisions.iter().filter(|d| d.push()).count();
        }
        println!("{at}: {pushes} of {} members get a push", members.len());
    }
    Ok(())
}
