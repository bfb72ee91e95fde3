//! One recipient's entry in a `decisions` line of the replay protocol: the
//! one renderer that `dnd replay`, a service's decide endpoint and a cluster
//! shard all write, so their bytes cannot drift apart.
//!
//! The entry is a JSON object with its keys in the protocol's order:
//! `userId`, `push`, `by`, `level` (`null` when no level decided),
//! `deferUntil` (epoch milliseconds, only when the push is deferred),
//! `held` (`true`, only when the push is held for a digest), then, on
//! request, `explanation` (the object `dnd explain --json` writes).

use std::io;

use serde::{Serialize, Serializer};

use crate::decide::defer::Deferral;
use crate::decide::{Decision, Explanation, PreparedMessage};
use crate::model::Level;

/// One recipient's entry in a `decisions` line.
///
/// Serializing it (with [`write_to`](Self::write_to), or any serde
/// serializer) writes the object straight to the output: without an
/// explanation nothing is allocated.
///
/// ```
/// use dnd_engine::push::DecisionLine;
/// use dnd_engine::{Config, Conversation, Message, Settings, Timestamp};
///
/// let settings = Settings::new(Config::new(dnd_engine::chrono_tz::UTC));
/// let at = Timestamp::from_millis(0)?;
/// let message = Message::new(Conversation::Group { group_id: "g" }, "s", at);
/// let prepared = settings.prepare(&message);
///
/// let mut out = Vec::new();
/// DecisionLine::decide(&prepared, "r").write_to(&mut out)?;
/// assert_eq!(out, br#"{"userId":"r","push":true,"by":"none","level":-1}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct DecisionLine<'a> {
    user_id: &'a str,
    decision: Decision,
    deferral: Option<Deferral>,
    held: bool,
    explanation: Option<Explanation>,
}

impl<'a> DecisionLine<'a> {
    /// The entry of user `user_id`: `decision`, deferred by `deferral`.
    pub fn new(user_id: &'a str, decision: Decision, deferral: Option<Deferral>) -> Self {
        DecisionLine {
            user_id,
            decision,
            deferral,
            held: false,
            explanation: None,
        }
    }

    /// This entry, saying that the push is held for a digest when `held`.
    pub fn with_held(mut self, held: bool) -> Self {
        self.held = held;
        self
    }

    /// User `id`'s entry for `prepared`, with its deferred push
    /// ([`PreparedMessage::decide_deferred_id`]), as `dnd replay` writes it.
    pub fn decide(prepared: &PreparedMessage<'_>, id: &'a str) -> Self {
        let (decision, deferral) = prepared.decide_deferred_id(id);
        DecisionLine::new(id, decision, deferral)
    }

    /// User `id`'s entry for `prepared` with its explanation
    /// ([`PreparedMessage::explain_id`]) after the decision's keys.
    pub fn explain(prepared: &PreparedMessage<'_>, id: &'a str) -> Self {
        let explanation = prepared.explain_id(id);
        DecisionLine {
            user_id: id,
            decision: explanation.decision(),
            deferral: explanation.deferral(),
            held: false,
            explanation: Some(explanation),
        }
    }

    /// [`explain`](Self::explain) when `explain` is true, else
    /// [`decide`](Self::decide): what a decide request asks for.
    pub fn of(prepared: &PreparedMessage<'_>, id: &'a str, explain: bool) -> Self {
        if explain {
            DecisionLine::explain(prepared, id)
        } else {
            DecisionLine::decide(prepared, id)
        }
    }

    /// The decision the entry reports.
    pub fn decision(&self) -> Decision {
        self.decision
    }

    /// Writes the entry's JSON object to `out`, with no line break; an error
    /// only when `out` fails.
    pub fn write_to<W: io::Write>(&self, out: W) -> io::Result<()> {
        serde_json::to_writer(out, self).map_err(io::Error::from)
    }
}

impl Serialize for DecisionLine<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// The keys, in the protocol's order.
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Keys<'a> {
            user_id: &'a str,
            push: bool,
            by: &'static str,
            level: Option<i64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            defer_until: Option<i64>,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            held: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            explanation: Option<&'a Explanation>,
        }
        let d = self.decision;
        Keys {
            user_id: self.user_id,
            push: d.push(),
            by: d.by().as_str(),
            level: d.level().map(Level::code),
            defer_until: self.deferral.map(|d| d.until.timestamp_millis()),
            held: self.held,
            explanation: self.explanation.as_ref(),
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::DecisionLine;
    use crate::decide::Conversation;
    use crate::decide::Message;
    use crate::model::Timestamp;
    use crate::store::Config;
    use crate::store::Settings;

    /// Alice is quiet from 22:00 for 9 hours at level 5 (nothing pushes);
    /// Bob keeps group `g` silent (level 5).
    fn settings() -> Settings {
        let mut settings = Settings::new(Config::new(chrono_tz::UTC));
        let ok = settings.handle(
            "/user/blockPushPeriod/set.json",
            b"userId=alice&startTime=22:00:00&period=540&level=5",
        );
        assert_eq!(ok.code(), 200);
        let ok = settings.handle(
            "/conversation/notification/set.json",
            b"conversationType=3&requestId=bob&targetId=g&unpushLevel=5",
        );
        assert_eq!(ok.code(), 200);
        settings
    }

    /// A message from `s` in group `g` at 23:30 UTC, inside Alice's quiet time.
    fn message() -> Message<'static> {
        let at: Timestamp = "2026-11-22T23:30:00Z".parse().unwrap();
        Message::new(Conversation::Group { group_id: "g" }, "s", at)
    }

    fn written(line: &DecisionLine<'_>) -> String {
        let mut out = Vec::new();
        line.write_to(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_the_keys_in_the_protocols_order_with_defer_only_when_deferred() {
        let settings = settings();
        let message = message();
        let prepared = settings.prepare(&message);
        // Deferred to the end of her quiet time, 07:00 UTC the next day.
        assert_eq!(
            written(&DecisionLine::decide(&prepared, "alice")),
            r#"{"userId":"alice","push":false,"by":"user_period","level":5,"deferUntil":1795417200000}"#
        );
        // Bob's level never lifts: no deferUntil.
        assert_eq!(
            written(&DecisionLine::decide(&prepared, "bob")),
            r#"{"userId":"bob","push":false,"by":"user_conversation","level":5}"#
        );
        assert_eq!(
            written(&DecisionLine::decide(&prepared, "carol")),
            r#"{"userId":"carol","push":true,"by":"none","level":-1}"#
        );
        assert_eq!(
            written(&DecisionLine::of(&prepared, "s", false)),
            r#"{"userId":"s","push":false,"by":"sender","level":null}"#
        );
        // An id is escaped as JSON text.
        let line = DecisionLine::new("a\"b\\", prepared.decide_id("carol"), None);
        assert_eq!(
            written(&line),
            r#"{"userId":"a\"b\\","push":true,"by":"none","level":-1}"#
        );
    }

    #[test]
    fn an_explained_entry_is_the_decision_then_the_explain_json_object() {
        let settings = settings();
        let message = message();
        let prepared = settings.prepare(&message);
        let line = DecisionLine::of(&prepared, "alice", true);
        assert_eq!(line.decision(), prepared.decide_id("alice"));
        let explanation = serde_json::to_string(&prepared.explain_id("alice")).unwrap();
        assert!(explanation.contains(r#""steps":[{"#), "{explanation}");
        assert_eq!(
            written(&line),
            format!(
                r#"{{"userId":"alice","push":false,"by":"user_period","level":5,"deferUntil":1795417200000,"explanation":{explanation}}}"#
            )
        );
    }
}
