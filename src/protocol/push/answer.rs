//! The forms a push's answer may take (`"answer"` in the push object,
//! `docs/rules.md` §13): every recipient's line (`"lines"`, the default),
//! only the recipients who get a push (`"push"`), or one bit per recipient
//! (`"bits"`). The compact forms are what a push to a conversation's
//! members asks for when ten million lines would be the answer:
//!
//! - `"push"`: `{"push":["u1","u7",...],"recipients":N}`, the recipients
//!   who get a push, in recipient order, and how many were decided.
//! - `"bits"`: `{"recipients":N,"bits":"BASE64"}`: bit `i` of the bytes
//!   (byte `i / 8`, bit `i % 8`, the least significant first) is set when
//!   recipient `i` gets a push; standard base64 with padding; the bits past
//!   the last recipient are clear.
//!
//! Recipient order is the order of `recipients`, or, for a push to the
//! members, member order: the order `/group/user/query.json` lists them.
//! [`Compact`] builds either form and joins the parts of several shards.

use base64::Engine as _;

use super::DecisionLine;
use crate::decide::{Conversation, PreparedMessage};
use crate::error::Error;
use crate::model::ConversationType;

/// The form of a push's answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnswerForm {
    /// Every recipient's decision line: `{"decisions":[...]}`.
    #[default]
    Lines,
    /// Only the recipients who get a push.
    Push,
    /// One bit per recipient.
    Bits,
}

impl AnswerForm {
    /// The form named `text` (`lines`, `push` or `bits`).
    pub fn parse(text: &str) -> Result<AnswerForm, Error> {
        match text {
            "lines" => Ok(AnswerForm::Lines),
            "push" => Ok(AnswerForm::Push),
            "bits" => Ok(AnswerForm::Bits),
            other => Err(Error::Invalid(format!(
                "{} is not an answer's form (lines, push or bits)",
                crate::error::excerpt::Excerpt::new(other)
            ))),
        }
    }

    /// Its name in the push object.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            AnswerForm::Lines => "lines",
            AnswerForm::Push => "push",
            AnswerForm::Bits => "bits",
        }
    }
}

/// A compact answer (`push` or `bits`) being built, recipient by recipient
/// or part by part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compact {
    form: AnswerForm,
    recipients: u64,
    /// For `push`: the ids who get a push, as JSON strings joined by commas.
    ids: Vec<u8>,
    /// For `bits`: the bits so far.
    bits: Vec<u8>,
}

impl Compact {
    /// An empty answer in `form`; [`AnswerForm::Lines`] is read as `push`.
    #[must_use]
    pub fn new(form: AnswerForm) -> Compact {
        let form = if form == AnswerForm::Bits {
            AnswerForm::Bits
        } else {
            AnswerForm::Push
        };
        Compact {
            form,
            recipients: 0,
            ids: Vec::new(),
            bits: Vec::new(),
        }
    }

    /// How many recipients were decided.
    #[must_use]
    pub const fn recipients(&self) -> u64 {
        self.recipients
    }

    /// The next recipient, `id`, and whether it gets a push.
    pub fn add(&mut self, id: &str, push: bool) {
        match self.form {
            AnswerForm::Bits => self.add_bit(push),
            _ => {
                if push {
                    if !self.ids.is_empty() {
                        self.ids.push(b',');
                    }
                    // Writing a string to a Vec cannot fail.
                    let _ = serde_json::to_writer(&mut self.ids, id);
                }
                self.recipients += 1;
            }
        }
    }

    fn add_bit(&mut self, push: bool) {
        let i = self.recipients;
        if i.is_multiple_of(8) {
            self.bits.push(0);
        }
        if push {
            if let Some(last) = self.bits.last_mut() {
                *last |= 1 << (i % 8);
            }
        }
        self.recipients += 1;
    }

    /// Appends `other`'s recipients after these (a shard's part after the
    /// shards before it). Both must be of one form.
    pub fn append(&mut self, other: &Compact) {
        match self.form {
            AnswerForm::Bits => {
                for i in 0..other.recipients {
                    self.add_bit(other.bits[(i / 8) as usize] >> (i % 8) & 1 == 1);
                }
            }
            _ => {
                if !other.ids.is_empty() {
                    if !self.ids.is_empty() {
                        self.ids.push(b',');
                    }
                    self.ids.extend_from_slice(&other.ids);
                }
                self.recipients += other.recipients;
            }
        }
    }

    /// Writes the answer's JSON object.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self.form {
            AnswerForm::Bits => {
                out.extend_from_slice(format!("{{\"recipients\":{},\"bits\":\"", self.recipients).as_bytes());
                out.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(&self.bits).as_bytes());
                out.extend_from_slice(b"\"}");
            }
            _ => {
                out.extend_from_slice(b"{\"push\":[");
                out.extend_from_slice(&self.ids);
                out.extend_from_slice(format!("],\"recipients\":{}}}", self.recipients).as_bytes());
            }
        }
    }

    /// An answer read back from its JSON (a shard's part), checked: the
    /// form's keys and nothing else, `recipients` a count, the bits as many
    /// bytes as the count needs with the bits past it clear, each pushed id
    /// a string.
    pub fn from_json(text: &str) -> Result<Compact, Error> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Read {
            recipients: u64,
            push: Option<Vec<String>>,
            bits: Option<String>,
        }
        let bad = |why: String| Error::field("answer", Error::Invalid(why));
        let read: Read = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        match (read.push, read.bits) {
            (Some(ids), None) => {
                let mut c = Compact::new(AnswerForm::Push);
                for id in &ids {
                    c.add(id, true);
                }
                if read.recipients < ids.len() as u64 {
                    return Err(bad(format!("{} pushed of {} recipients", ids.len(), read.recipients)));
                }
                c.recipients = read.recipients;
                Ok(c)
            }
            (None, Some(b64)) => {
                let bits = base64::engine::general_purpose::STANDARD
                    .decode(b64.as_bytes())
                    .map_err(|e| bad(format!("bits: {e}")))?;
                let n = read.recipients;
                if bits.len() as u64 != n.div_ceil(8)
                    || (!n.is_multiple_of(8) && bits.last().is_some_and(|b| b >> (n % 8) != 0))
                {
                    return Err(bad(format!(
                        "bits: {} bytes do not hold exactly {n} recipients",
                        bits.len()
                    )));
                }
                Ok(Compact {
                    form: AnswerForm::Bits,
                    recipients: n,
                    ids: Vec::new(),
                    bits,
                })
            }
            _ => Err(bad("one of push and bits".into())),
        }
    }
}

/// Writes the answer of `prepared` for every member of its conversation,
/// in member order, in `form`, to `out`; returns how many members were
/// decided. The lines form is refused past `max_lines` members (nothing
/// is written), as a list of that many recipients would be: it is the one
/// form whose size grows with every member.
pub fn write_members(
    prepared: &PreparedMessage<'_>,
    form: AnswerForm,
    explain: bool,
    max_lines: usize,
    out: &mut Vec<u8>,
) -> Result<u64, Error> {
    if form == AnswerForm::Lines {
        let settings = prepared.settings();
        let count = match prepared.message().conversation {
            Conversation::Group { group_id } => settings.member_count(ConversationType::Group, group_id),
            Conversation::UltraGroup { group_id, .. } => settings.member_count(ConversationType::UltraGroup, group_id),
            _ => 0,
        };
        if count > max_lines {
            return Err(lines_refused(count as u64, max_lines));
        }
    }
    Ok(write_member_page(prepared, form, explain, 0, usize::MAX, out).0)
}

/// The refusal of the lines of `count` members, more than `max_lines`.
#[must_use]
pub fn lines_refused(count: u64, max_lines: usize) -> Error {
    Error::field(
        "push.answer",
        Error::Invalid(format!(
            "the lines of {count} members, more than {max_lines}; ask for \"push\" or \"bits\""
        )),
    )
}

/// Writes one page of the members' answer ([`PreparedMessage::decide_member_page`]:
/// the members numbered `first` or more, at most `limit`) in `form`, as a
/// whole answer object, to `out`: how many members it holds and the
/// `first` of the next page, if members remain. A cluster's shard answers
/// its members a page at a time; the pages, in order, are joined.
pub fn write_member_page(
    prepared: &PreparedMessage<'_>,
    form: AnswerForm,
    explain: bool,
    first: u32,
    limit: usize,
    out: &mut Vec<u8>,
) -> (u64, Option<u32>) {
    let settings = prepared.settings();
    if form == AnswerForm::Lines {
        out.extend_from_slice(b"{\"decisions\":[");
        let mut n = 0u64;
        let (_, next) = prepared.decide_member_page(first, limit, |handles, _| {
            for &h in handles {
                let id = settings.user_id(h).unwrap_or_default();
                if n > 0 {
                    out.push(b',');
                }
                let _ = DecisionLine::of(prepared, id, explain).write_to(&mut *out);
                n += 1;
            }
        });
        out.extend_from_slice(b"]}");
        return (n, next);
    }
    let mut compact = Compact::new(form);
    let (_, next) = prepared.decide_member_page(first, limit, |handles, decisions| {
        for (&h, d) in handles.iter().zip(decisions) {
            if form == AnswerForm::Bits {
                compact.add_bit(d.push());
            } else {
                compact.add(
                    if d.push() {
                        settings.user_id(h).unwrap_or_default()
                    } else {
                        ""
                    },
                    d.push(),
                );
            }
        }
    });
    compact.write_to(out);
    (compact.recipients, next)
}
