//! Properties stated from the rules, over random settings and messages.

use chrono_tz::Tz;
use dnd_engine::{
    Config, Conversation, ConversationType, DndPeriod, DndWindow, Layer, Level, Message, PeriodLevel, Recipient,
    Request, Settings, TimeOfDay, Timestamp, UserId,
};
use proptest::prelude::*;

use crate::checks::agrees_with_the_oracle;
use crate::gen::{self, build, cases, change, config, message, message_from, MessageParts, RECIPIENTS, USERS};
use crate::naive::Naive;

fn decisions(settings: &Settings, m: &MessageParts) -> Vec<dnd_engine::Decision> {
    gen::decisions(settings, &m.message(), &RECIPIENTS)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), ..ProptestConfig::default() })]

    /// The engine decides as the rules read straight down (the naive walk)
    /// do, every way it decides (`checks::agrees_with_the_oracle`).
    #[test]
    fn agrees_with_the_rules_read_straight_down(
        config in config(),
        changes in prop::collection::vec(change(), 0..40),
        m in message(),
    ) {
        let settings = build(&config, &changes);
        let mut naive = Naive::of_config(&config);
        for c in &changes {
            naive.apply(c);
        }
        agrees_with_the_oracle(&settings, &naive, &m.message(), &RECIPIENTS)?;
    }

    /// The sender never gets a push for their own message.
    #[test]
    fn the_sender_never_gets_a_push(
        config in config(),
        changes in prop::collection::vec(change(), 0..40),
        m in message(),
    ) {
        let settings = build(&config, &changes);
        let d = settings.prepare(&m.message()).decide_id(m.sender);
        prop_assert!(!d.push());
        prop_assert_eq!(d.by(), Layer::Sender);
    }

    /// Whatever layer it is found at, -1 pushes and 5 does not.
    #[test]
    fn minus_one_always_pushes_and_five_never_does(
        config in config(),
        changes in prop::collection::vec(change(), 0..40),
        m in message(),
    ) {
        let settings = build(&config, &changes);
        for (r, d) in RECIPIENTS.iter().zip(decisions(&settings, &m)) {
            match d.level() {
                Some(Level::All) => prop_assert!(d.push(), "{} {:?}", r, d),
                Some(Level::Nothing) => prop_assert!(!d.push(), "{} {:?}", r, d),
                _ => {}
            }
        }
    }

    /// A user's -1 or 5 on the message's conversation type decides whenever no
    /// period is active and nothing is set on the conversation or subchannel:
    /// -1 pushes and 5 does not, whatever the defaults and the mentions.
    #[test]
    fn a_type_level_of_minus_one_or_five_beats_every_default(
        config in config(),
        changes in prop::collection::vec(change(), 0..40),
        // Not sent by u0 and not with disablePush, both of which decide first.
        m in message_from([&USERS[1..], &["outsider"]].concat(), 0.0),
        five in any::<bool>(),
    ) {
        let mut changes = changes;
        // Keep only changes that do not give u0 a period or a conversation level.
        changes.retain(|c| !matches!(c,
            Request::SetPeriod { user_id, .. } | Request::SetConversationLevel { user_id, .. } if user_id.as_str() == "u0"));
        let level = if five { Level::Nothing } else { Level::All };
        changes.push(Request::SetTypeLevel {
            user_id: UserId::new("u0").unwrap(),
            conversation_type: m.conversation_type,
            level: Some(level),
        });
        let d = build(&config, &changes).prepare(&m.message()).decide_id("u0");
        prop_assert_eq!(d.by(), Layer::UserConversationType);
        prop_assert_eq!(d.push(), !five);
    }

    /// Whatever is set below the layer that decides changes nothing.
    #[test]
    fn a_set_layer_hides_every_layer_below_it(
        config in config(),
        changes in prop::collection::vec(change(), 0..40),
        more in prop::collection::vec(change(), 1..20),
        m in message(),
    ) {
        let before = build(&config, &changes);
        let msg = m.message();
        let p = before.prepare(&msg);
        let mut after = before.clone();
        for c in &more {
            prop_assert_eq!(after.apply(c).code(), 200);
        }
        let q = after.prepare(&msg);
        for r in RECIPIENTS {
            let d = p.decide_id(r);
            // Which layers did the extra changes touch, for this recipient and message?
            let touched = more.iter().filter_map(|c| layer_of(c, r, &m)).min();
            if touched.is_none_or(|t| t > d.by()) {
                prop_assert_eq!(q.decide_id(r), d, "recipient {}, extra changes at {:?}", r, touched);
            }
        }
    }

    /// Setting a level to 0 is the same as never setting it.
    #[test]
    fn setting_zero_is_the_same_as_never_setting(
        config in config(),
        changes in prop::collection::vec(change(), 0..40),
        set in change(),
        m in message(),
    ) {
        // `set` names one setting; the base leaves it alone.
        let unset = match set.clone() {
            Request::SetConversationLevel { user_id, conversation, .. } =>
                Request::SetConversationLevel { user_id, conversation, level: None },
            Request::SetTypeLevel { user_id, conversation_type, .. } =>
                Request::SetTypeLevel { user_id, conversation_type, level: None },
            Request::SetUltraGroupDefault { group_id, bus_channel, .. } =>
                Request::SetUltraGroupDefault { group_id, bus_channel, level: None },
            Request::SetPeriod { user_id, .. } | Request::DeletePeriod { user_id } =>
                Request::DeletePeriod { user_id },
            other => other,
        };
        let base: Vec<Request> = changes.into_iter().filter(|c| !same_setting(c, &unset)).collect();
        let never = build(&config, &base);
        let mut set_then_zero = base.clone();
        set_then_zero.push(set);
        set_then_zero.push(unset.clone());
        let zero_only = [base.clone(), vec![unset]].concat();
        prop_assert_eq!(decisions(&build(&config, &set_then_zero), &m), decisions(&never, &m));
        prop_assert_eq!(decisions(&build(&config, &zero_only), &m), decisions(&never, &m));
    }

    /// Deciding a whole fanout at once, by handle or by id, lazily or into a
    /// buffer, gives each recipient the decision it gets alone; and the
    /// explanation's decision is the same one.
    #[test]
    fn batch_decisions_and_explanations_agree_with_single_ones(
        config in config(),
        changes in prop::collection::vec(change(), 0..40),
        m in message(),
    ) {
        let mut settings = build(&config, &changes);
        let handles: Vec<_> = RECIPIENTS.iter().map(|r| settings.intern_user(&UserId::new(r).unwrap()).unwrap()).collect();
        let msg = m.message();
        let p = settings.prepare(&msg);
        let single: Vec<_> = RECIPIENTS.iter().map(|r| p.decide_id(r)).collect();
        let mut out = Vec::with_capacity(RECIPIENTS.len());
        p.decide_into(&handles, &mut out).unwrap();
        prop_assert_eq!(&out, &single);
        p.decide_ids_into(&RECIPIENTS, &mut out);
        prop_assert_eq!(&out, &single);
        prop_assert_eq!(p.decisions(&handles).unwrap().collect::<Vec<_>>(), single.clone());
        for (i, r) in RECIPIENTS.iter().enumerate() {
            prop_assert_eq!(p.explain(Recipient::Id(r)).unwrap().decision(), single[i]);
            prop_assert_eq!(p.explain(Recipient::Handle(handles[i])).unwrap().decision(), single[i]);
        }
    }

    /// A prepared message can be shared by threads that split a fanout
    /// between them, and they decide as one thread does.
    #[test]
    fn threads_sharing_a_prepared_message_decide_as_one(
        config in config(),
        changes in prop::collection::vec(change(), 0..40),
        m in message(),
    ) {
        let settings = build(&config, &changes);
        let msg = m.message();
        let p = settings.prepare(&msg);
        let (first, second) = RECIPIENTS.split_at(3);
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| first.iter().map(|r| p.decide_id(r)).collect::<Vec<_>>());
            let b = s.spawn(|| second.iter().map(|r| p.decide_id(r)).collect::<Vec<_>>());
            (a.join().unwrap(), b.join().unwrap())
        });
        prop_assert_eq!([a, b].concat(), decisions(&settings, &m));
    }

    /// Window membership agrees with stepping the wall clock one second at a
    /// time from the start, in fixed-offset zones, where the wall clock is
    /// plain arithmetic on the instant.
    #[test]
    fn window_membership_agrees_with_stepping_the_clock(
        start in 0u32..86_400,
        minutes in 1i64..=1439,
        offset_hours in -12i32..=12,
        ms in 0i64..4_102_444_800_000,
    ) {
        // Etc/GMT+5 is UTC-05:00: the sign is POSIX's, the other way round.
        let name = match offset_hours {
            0 => "Etc/GMT".to_string(),
            h if h > 0 => format!("Etc/GMT-{h}"),
            h => format!("Etc/GMT+{}", -h),
        };
        let zone: Tz = name.parse().unwrap();
        let instant = Timestamp::from_millis(ms).unwrap();
        let wall = (ms.div_euclid(1000) + i64::from(offset_hours) * 3600).rem_euclid(86_400) as u32;

        let len = if minutes == 1439 { 86_400 } else { minutes as u32 * 60 };
        let mut t = start;
        let mut stepped = false;
        for _ in 0..len {
            if t == wall {
                stepped = true;
                break;
            }
            t = (t + 1) % 86_400;
        }

        let period = DndPeriod {
            window: DndWindow::new(TimeOfDay::from_seconds(start).unwrap(), minutes).unwrap(),
            level: PeriodLevel::Nothing,
            zone: Some(zone),
        };
        let mut settings = Settings::new(Config::new(chrono_tz::Asia::Shanghai));
        settings.set_period(&UserId::new("r").unwrap(), Some(period)).unwrap();
        let d = settings.prepare(&Message::new(Conversation::Group { group_id: "g" }, "s", instant)).decide_id("r");
        prop_assert_eq!(d.by() == Layer::UserPeriod, stepped);
        prop_assert_eq!(period.window.contains(TimeOfDay::from_seconds(wall).unwrap()), stepped);
    }
}

/// Whether two change requests name the same setting.
fn same_setting(a: &Request, b: &Request) -> bool {
    use Request::*;
    match (a, b) {
        (
            SetPeriod { user_id: x, .. } | DeletePeriod { user_id: x },
            SetPeriod { user_id: y, .. } | DeletePeriod { user_id: y },
        ) => x == y,
        (
            SetConversationLevel {
                user_id: u,
                conversation: c,
                ..
            },
            SetConversationLevel {
                user_id: v,
                conversation: d,
                ..
            },
        ) => u == v && c == d,
        (
            SetTypeLevel {
                user_id: u,
                conversation_type: t,
                ..
            },
            SetTypeLevel {
                user_id: v,
                conversation_type: s,
                ..
            },
        ) => u == v && t == s,
        (
            SetUltraGroupDefault {
                group_id: g,
                bus_channel: b,
                ..
            },
            SetUltraGroupDefault {
                group_id: h,
                bus_channel: c,
                ..
            },
        ) => g == h && b == c,
        _ => false,
    }
}

/// The layer of recipient `r`'s walk for message `m` that change `c` can
/// affect, or `None` if it cannot affect this walk at all.
fn layer_of(c: &Request, r: &str, m: &MessageParts) -> Option<Layer> {
    let ultra = m.conversation_type == ConversationType::UltraGroup;
    let target = match m.conversation_type {
        ConversationType::Private | ConversationType::System => m.sender,
        _ => m.target,
    };
    match c {
        Request::SetPeriod { user_id, .. } | Request::DeletePeriod { user_id } => {
            (user_id.as_str() == r).then_some(Layer::UserPeriod)
        }
        Request::SetConversationLevel {
            user_id, conversation, ..
        } => {
            let same = user_id.as_str() == r
                && conversation.conversation_type() == m.conversation_type
                && conversation.target_id().as_str() == target;
            match conversation.bus_channel() {
                None => same.then_some(Layer::UserConversation),
                Some(b) => (same && ultra && m.bus == Some(b.as_str())).then_some(Layer::UserSubchannel),
            }
        }
        Request::SetTypeLevel {
            user_id,
            conversation_type,
            ..
        } => {
            (user_id.as_str() == r && *conversation_type == m.conversation_type).then_some(Layer::UserConversationType)
        }
        Request::SetUltraGroupDefault {
            group_id, bus_channel, ..
        } => {
            let same = ultra && group_id.as_str() == m.target;
            match bus_channel {
                None => same.then_some(Layer::ChannelDefault),
                Some(b) => (same && m.bus == Some(b.as_str())).then_some(Layer::SubchannelDefault),
            }
        }
        _ => None,
    }
}
