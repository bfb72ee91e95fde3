//! Held pushes against an oracle that keeps every held item in one list and
//! re-decides each from scratch at every evaluation: random worlds with
//! every time extension, random messages asking to hold, a clock stepped
//! through a week with random settings changes between the steps. The
//! digests released (and what is held, folded and dropped) must be the same.

use std::collections::BTreeMap;

use chrono::Duration;
use dnd_engine::{Config, Digest, Held, Holding, Mentions, Message, Request, Settings, Timestamp};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::gen::{self, conversation, instant, mentions, request, ts, World, TIME_USERS};
use crate::naive::Naive;

/// The oracle's detail limit, and the engine's, small enough to fold.
const LIMIT: u32 = 3;
const MENTIONED: [&str; 2] = ["u1", "u3"];
const SENDERS: [&str; 2] = ["s", "u4"];

/// One message of a step.
#[derive(Clone, Debug)]
struct Sent {
    kind: u8,
    mention: u8,
    sender: usize,
    /// Minutes after the step's start.
    minute: i64,
    hold: bool,
}

/// One step: settings changes, messages, then an evaluation `minutes` after the previous one.
#[derive(Clone, Debug)]
struct Step {
    changes: Vec<(String, String)>,
    sent: Vec<Sent>,
    minutes: i64,
}

fn step() -> impl Strategy<Value = Step> {
    (
        prop::collection::vec(request(true), 0..3),
        prop::collection::vec(
            (0u8..5, 0u8..3, 0usize..2, 0i64..600, prop::bool::weighted(0.8)).prop_map(
                |(kind, mention, sender, minute, hold)| Sent {
                    kind,
                    mention,
                    sender,
                    minute,
                    hold,
                },
            ),
            0..5,
        ),
        30i64..900,
    )
        .prop_map(|(changes, sent, minutes)| Step { changes, sent, minutes })
}

/// A message the oracle holds: how to make it again, and its id.
struct OracleMessage {
    kind: u8,
    mention: u8,
    sender: &'static str,
    at: Timestamp,
    id: String,
}

impl OracleMessage {
    fn message_at(&self, at: Timestamp) -> Message<'_> {
        Message::new(conversation(self.kind), self.sender, at)
            .with_mentions(mentions(self.mention, &MENTIONED))
            .with_message_id(&self.id)
    }
}

/// The oracle: every held item in one list, in the order held.
#[derive(Default)]
struct Oracle {
    messages: Vec<OracleMessage>,
    /// (message index, recipient)
    items: Vec<(usize, &'static str)>,
    /// Per recipient: held in detail, folded.
    counts: BTreeMap<&'static str, (u32, u64)>,
    previous: Option<i64>,
    dropped: u64,
}

impl Oracle {
    /// Holds `recipient` of message `m` if its decision is no push and a
    /// deferred push exists (the engine's defer, checked against stepping
    /// the clock elsewhere).
    fn hold(&mut self, settings: &Settings, naive: &Naive, m: usize, recipient: &'static str) -> Holding {
        let message = self.messages[m].message_at(self.messages[m].at);
        if naive.decide(&message, recipient).0 {
            return Holding::NotHeld;
        }
        let (_, deferral) = settings.prepare(&message).decide_deferred_id(recipient);
        if deferral.is_none() {
            return Holding::NotHeld;
        }
        let c = self.counts.entry(recipient).or_default();
        if c.0 >= LIMIT {
            c.1 += 1;
            return Holding::Folded;
        }
        c.0 += 1;
        self.items.push((m, recipient));
        Holding::Held
    }

    /// Re-decides every item from scratch at `now`.
    fn release(&mut self, settings: &Settings, naive: &Naive, now: i64) -> Vec<Value> {
        let previous = self.previous;
        self.previous = Some(previous.map_or(now, |p| p.max(now)));
        let mut due: Vec<(i64, &'static str, usize)> = Vec::new();
        let mut kept = Vec::new();
        for &(m, r) in &self.items {
            let sent = &self.messages[m];
            let bound = match previous {
                Some(p) if p > sent.at.millis() => Timestamp::from_millis(p).unwrap(),
                _ => sent.at,
            };
            let message = sent.message_at(bound);
            let at = if naive.decide(&message, r).0 {
                Some(bound.millis())
            } else {
                settings
                    .prepare(&message)
                    .decide_deferred_id(r)
                    .1
                    .map(|d| d.until.timestamp_millis())
            };
            match at {
                None => {
                    self.dropped += 1;
                    let c = self.counts.get_mut(r).unwrap();
                    c.0 -= 1;
                    if c.0 == 0 {
                        self.dropped += std::mem::take(&mut c.1);
                    }
                }
                Some(t) if t <= now => due.push((t, r, m)),
                Some(_) => kept.push((m, r)),
            }
        }
        self.items = kept;
        let mut digests: BTreeMap<(i64, &str), Vec<usize>> = BTreeMap::new();
        for &(t, r, m) in &due {
            digests.entry((t, r)).or_default().push(m);
            self.counts.get_mut(r).unwrap().0 -= 1;
        }
        digests
            .into_iter()
            .map(|((at, r), ms)| {
                let mut conversations: Vec<Value> = Vec::new();
                for m in ms {
                    let sent = &self.messages[m];
                    let message = sent.message_at(sent.at);
                    let t = message.conversation.conversation_type();
                    let (target, bus) = match message.conversation {
                        dnd_engine::Conversation::Group { group_id } => (group_id, None),
                        dnd_engine::Conversation::UltraGroup { group_id, bus_channel } => (group_id, bus_channel),
                        _ => (sent.sender, None),
                    };
                    let mentioned = t.mentions_count()
                        && match message.mentions {
                            Mentions::All => true,
                            Mentions::Users(ids) => ids.contains(&r),
                            _ => false,
                        };
                    let ms = sent.at.millis();
                    let same = |c: &Value| {
                        c["conversationType"] == json!(t.code())
                            && c["targetId"] == json!(target)
                            && c.get("busChannel") == bus.map(|b| json!(b)).as_ref()
                    };
                    match conversations.iter_mut().find(|c| same(c)) {
                        Some(c) => {
                            c["count"] = json!(c["count"].as_u64().unwrap() + 1);
                            c["mentions"] = json!(c["mentions"].as_u64().unwrap() + u64::from(mentioned));
                            c["first"] = json!(c["first"].as_i64().unwrap().min(ms));
                            if ms >= c["last"].as_i64().unwrap() {
                                c["last"] = json!(ms);
                                c["lastFromUserId"] = json!(sent.sender);
                                c["lastMessageId"] = json!(sent.id);
                            }
                        }
                        None => {
                            let mut c = json!({
                                "conversationType": t.code(), "targetId": target, "count": 1,
                                "mentions": u64::from(mentioned), "first": ms, "last": ms,
                                "lastFromUserId": sent.sender, "lastMessageId": sent.id,
                            });
                            if let Some(b) = bus {
                                c["busChannel"] = json!(b);
                            }
                            conversations.push(c);
                        }
                    }
                }
                conversations.sort_by(|a, b| {
                    let key = |c: &Value| {
                        (
                            -c["last"].as_i64().unwrap(),
                            c["conversationType"].as_i64().unwrap(),
                            c["targetId"].as_str().unwrap().to_owned(),
                            c.get("busChannel").and_then(Value::as_str).map(str::to_owned),
                        )
                    };
                    key(a).cmp(&key(b))
                });
                let mut d = json!({ "userId": r, "at": at, "conversations": conversations });
                let folded = std::mem::take(&mut self.counts.get_mut(r).unwrap().1);
                if folded > 0 {
                    d["folded"] = json!(folded);
                }
                d
            })
            .collect()
    }
}

fn as_json(digests: &[Digest]) -> Vec<Value> {
    digests.iter().map(|d| serde_json::to_value(d).unwrap()).collect()
}

fn apply(w: &mut World, changes: &[(String, String)]) {
    for (path, body) in changes {
        if let Ok(r) = Request::parse(path, body.as_bytes()) {
            assert_eq!(w.settings.apply(&r).code(), 200, "{path} {body}");
            w.naive.apply(&r);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: gen::cases(64), ..ProptestConfig::default() })]

    /// The digests released at each step of a week equal the oracle's,
    /// and so do what each hold answers and the counts held, folded and dropped.
    #[test]
    fn released_digests_equal_an_oracle_that_re_decides_every_held_message_at_each_step(
        zone in prop::sample::select(&["UTC", "America/New_York", "Asia/Shanghai"][..]),
        requests in prop::collection::vec(request(true), 0..12),
        steps in prop::collection::vec(step(), 1..16),
    ) {
        let zone: chrono_tz::Tz = zone.parse().unwrap();
        let mut w = gen::world(&Config::new(zone), &requests);
        let mut held = Held::with_detail_limit(LIMIT);
        let mut oracle = Oracle::default();
        let mut now = instant(0);
        for (n, step) in steps.iter().enumerate() {
            apply(&mut w, &step.changes);
            let next = now + Duration::minutes(step.minutes);
            let mut sent = step.sent.clone();
            sent.sort_by_key(|s| s.minute);
            for (k, s) in sent.iter().enumerate() {
                let at = ts((now + Duration::minutes(s.minute)).min(next));
                oracle.messages.push(OracleMessage {
                    kind: s.kind,
                    mention: s.mention,
                    sender: SENDERS[s.sender],
                    at,
                    id: format!("m{n}.{k}"),
                });
                let m = oracle.messages.len() - 1;
                let message = oracle.messages[m].message_at(at);
                let message = if s.hold { message.with_hold() } else { message };
                let prepared = w.settings.prepare(&message);
                let decisions: Vec<_> = TIME_USERS.iter().map(|&r| (r, prepared.decide_id(r))).collect();
                // The fanout's quick test agrees with the defer computation.
                for &(r, d) in &decisions {
                    let deferred = prepared.decide_deferred_id(r).1.is_some();
                    prop_assert_eq!(prepared.is_deferred(dnd_engine::Recipient::Id(r), d).unwrap(), deferred, "{}", r);
                }
                let holdings = held.hold(&prepared, decisions).unwrap();
                let expected: Vec<Holding> = TIME_USERS
                    .iter()
                    .map(|&r| if s.hold { oracle.hold(&w.settings, &w.naive, m, r) } else { Holding::NotHeld })
                    .collect();
                prop_assert_eq!(holdings, expected, "step {} message {}", n, k);
            }
            now = next;
            let release = held.release(&w.settings, ts(now));
            let expected = oracle.release(&w.settings, &w.naive, now.timestamp_millis());
            prop_assert_eq!(as_json(&release.digests), expected, "step {} at {}", n, now);
            prop_assert_eq!(held.len(), oracle.items.len());
            prop_assert_eq!(held.dropped(), oracle.dropped);
            for r in TIME_USERS {
                let (d, f) = oracle.counts.get(r).copied().unwrap_or_default();
                prop_assert_eq!(held.held_for(r), (d, f), "{}", r);
            }
        }
    }
}
