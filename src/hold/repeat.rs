//! Repeated senders (layer `repeat`): a message from a sender who has a
//! push to the recipient still held, sent at most the recipient's repeat
//! window before it, passes over the recipient's quiet time, as a VIP with
//! scope `quiet` does, when the recipient allows it
//! (`/user/repeat/set.json`). It needs the held items at decide time:
//! [`Held::repeaters`] finds, once per message, the recipients for whom
//! its sender is a repeated sender.

use super::Held;
use crate::decide::{Decision, Message, PreparedMessage};
use crate::error::Error;
use crate::store::{Settings, UserHandle};

/// A user's repeated-sender setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Repeat {
    /// Whether a repeated sender passes over the user's quiet time.
    pub allow: bool,
    /// How long after a held push the sender's next message counts as a
    /// repeat, in minutes (1 to 60).
    pub window_minutes: u8,
}

impl Repeat {
    /// The setting of a user who set none: not allowed, 15 minutes.
    pub const DEFAULT: Repeat = Repeat {
        allow: false,
        window_minutes: 15,
    };

    /// A setting; an error for a window outside 1 to 60 minutes.
    pub fn new(allow: bool, window_minutes: i64) -> Result<Repeat, Error> {
        match u8::try_from(window_minutes) {
            Ok(w @ 1..=60) => Ok(Repeat {
                allow,
                window_minutes: w,
            }),
            _ => Err(Error::Invalid(format!(
                "{window_minutes} is not a repeat window (1 to 60 minutes)"
            ))),
        }
    }

    /// The window in milliseconds.
    pub fn window_ms(self) -> i64 {
        i64::from(self.window_minutes) * 60_000
    }
}

/// Read as JSON `{"allow": BOOL, "windowMinutes": 1-60}` (both required,
/// nothing else), as a request's JSON form and a snapshot write it.
impl<'de> serde::Deserialize<'de> for Repeat {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Repeat, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        struct Fields {
            allow: bool,
            window_minutes: i64,
        }
        let f = Fields::deserialize(deserializer)?;
        Repeat::new(f.allow, f.window_minutes).map_err(serde::de::Error::custom)
    }
}

impl Default for Repeat {
    fn default() -> Self {
        Repeat::DEFAULT
    }
}

/// The recipients of one message for whom its sender is a repeated sender.
#[derive(Clone, Debug, Default)]
pub struct Repeaters {
    numbers: hashbrown::HashSet<u32>,
}

impl Repeaters {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    pub(crate) fn contains(&self, h: UserHandle) -> bool {
        self.numbers.contains(&h.number())
    }

    /// Prepares `message` against `settings` with these repeaters: its
    /// decisions (one at a time, explanations, defer) read layer `repeat`.
    pub fn prepare<'a>(&'a self, settings: &'a Settings, message: &Message<'a>) -> PreparedMessage<'a> {
        let prepared = settings.prepare(message);
        if self.is_empty() {
            prepared
        } else {
            prepared.with_repeaters(self)
        }
    }

    /// Corrects a fanout by handle (`decisions[i]` for `recipients[i]`, as
    /// [`PreparedMessage::decide_into`] wrote them) for the repeaters, whom
    /// the batch paths do not read; how many decisions changed. Nothing to
    /// do, and nothing read, when there are none.
    pub fn correct_fanout(
        &self,
        prepared: &PreparedMessage<'_>,
        recipients: &[UserHandle],
        decisions: &mut [Decision],
    ) -> Result<usize, Error> {
        if self.is_empty() {
            return Ok(0);
        }
        let mut changed = 0;
        for (&h, d) in recipients.iter().zip(decisions.iter_mut()) {
            if !d.push() && self.contains(h) {
                let now = prepared.decide(h)?;
                changed += usize::from(now != *d);
                *d = now;
            }
        }
        Ok(changed)
    }
}

impl Held {
    /// The recipients for whom `message`'s sender is a repeated sender: who
    /// allow repeated senders and have an item from the sender held in
    /// detail (in any conversation) whose time is at most their window
    /// before the message's. Empty, at the cost of one test, when nobody
    /// allows repeated senders.
    pub fn repeaters(&self, settings: &Settings, message: &Message<'_>) -> Repeaters {
        let mut out = Repeaters::default();
        if settings.repeat.is_empty() {
            return out;
        }
        let Some(seqs) = self.by_sender.get(message.sender) else {
            return out;
        };
        let t = message.at.millis();
        for seq in seqs {
            let Some(m) = self.messages.get(seq) else { continue };
            let before = t - m.at.millis();
            if !(0..=60 * 60_000).contains(&before) {
                continue;
            }
            for item in &m.items {
                let id = self.recipients.id(item.recipient);
                let Some(h) = settings.user(id) else { continue };
                let r = settings.repeat.get(h);
                if r.allow && before <= r.window_ms() {
                    out.numbers.insert(h.number());
                }
            }
        }
        out
    }
}
