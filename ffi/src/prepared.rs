//! A message prepared from the replay protocol's push JSON, owning what it
//! borrows: the settings version it was prepared against and the push.
//!
//! The core's [`PreparedMessage`] borrows the settings and the message's
//! strings; a caller outside Rust holds one object instead, so this keeps
//! the three together (with `self_cell`, which checks the borrows) and the
//! settings alive and unchanged while it lives.

use std::sync::Arc;

use dnd_engine::push::{DecisionLine, Push};
use dnd_engine::{Decision, PreparedMessage, Recipient, Settings, UserHandle};
use self_cell::self_cell;

use crate::result::DndDecision;
use crate::slot::{fill, Slot};
use crate::status::Failure;

/// What a prepared message owns.
struct Input {
    settings: Arc<Settings>,
    push: Push,
}

/// The push's mentioned ids, borrowed from it.
type Ids<'a> = Vec<&'a str>;

self_cell!(
    struct Mentioned {
        owner: Input,
        #[covariant]
        dependent: Ids,
    }
);

self_cell!(
    struct Cell {
        owner: Mentioned,
        #[not_covariant]
        dependent: PreparedMessage,
    }
);

/// How many recipients a batch converts and decides at a time: its
/// handles, ids and decisions fit in the first-level cache.
pub const CHUNK: usize = 256;

/// A message prepared against one version of the settings.
///
/// Deciding and explaining take `&self` and may run on many threads at
/// once (the core's [`PreparedMessage`] is `Sync`).
pub struct Prepared(Cell);

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("push", &self.push())
            .finish_non_exhaustive()
    }
}

impl Prepared {
    /// Reads `json` as a push object and prepares its message against
    /// `settings`. The error names the field (`push.recipients[3]`).
    pub fn from_json(settings: Arc<Settings>, json: &str) -> Result<Prepared, Failure> {
        let push = Push::from_json(json).map_err(|e| Failure::of("push", e))?;
        Prepared::new(settings, push)
    }

    /// Prepares `push`'s message against `settings`, checking its values.
    /// A push without `recipients` (every member, as the service decides
    /// it) is refused: the settings here decide the recipients they are
    /// given, and an empty list would be a silent wrong answer.
    pub fn new(settings: Arc<Settings>, push: Push) -> Result<Prepared, Failure> {
        if push.members {
            return Err(Failure::new(
                crate::status::DndStatus::Invalid,
                "push.recipients",
                "is missing; a push to every member is decided by the service (dnd serve), here the recipients are listed",
            ));
        }
        let mentioned = Mentioned::new(Input { settings, push }, |input| input.push.mentioned_ids());
        let cell = Cell::try_new(mentioned, |m| {
            let Input { settings, push } = m.borrow_owner();
            let message = push.message(m.borrow_dependent())?;
            Ok::<_, dnd_engine::Error>(settings.prepare(&message))
        })
        .map_err(|e| Failure::of("push", e))?;
        Ok(Prepared(cell))
    }

    /// Runs `f` with the core's prepared message.
    pub fn with<R>(&self, f: impl for<'a> FnOnce(&PreparedMessage<'a>) -> R) -> R {
        self.0.with_dependent(|_, prepared| f(prepared))
    }

    /// The push it was prepared from.
    pub fn push(&self) -> &Push {
        &self.0.borrow_owner().borrow_owner().push
    }

    /// The settings version it was prepared against.
    pub fn settings(&self) -> &Arc<Settings> {
        &self.0.borrow_owner().borrow_owner().settings
    }

    /// The push's recipients, in order.
    pub fn recipients(&self) -> &[String] {
        &self.push().recipients
    }

    /// Decides `ids` into `out` (as long as `ids`), and, when `defer` is
    /// given (as long as `ids`), writes each recipient's deferred push in
    /// epoch milliseconds, 0 when the message pushes or would not push
    /// within the week. Each slot is written once and none is read, so
    /// `out` may be uninitialized ([`Slot`]). `scratch` is reused between
    /// calls.
    pub fn decide_ids<S: AsRef<str>, O: Slot<DndDecision>, D: Slot<i64>>(
        &self,
        ids: &[S],
        out: &mut [O],
        mut defer: Option<&mut [D]>,
        scratch: &mut Vec<Decision>,
    ) {
        assert_eq!(ids.len(), out.len(), "one decision per id");
        if let Some(defer) = &defer {
            assert_eq!(ids.len(), defer.len(), "one deferral per id");
        }
        self.with(|p| {
            for (c, (ids, out)) in ids.chunks(CHUNK).zip(out.chunks_mut(CHUNK)).enumerate() {
                p.decide_ids_into(ids, scratch);
                for (slot, &d) in out.iter_mut().zip(scratch.iter()) {
                    slot.put(DndDecision::of(d));
                }
                if let Some(defer) = defer.as_deref_mut() {
                    let defer = &mut defer[c * CHUNK..c * CHUNK + ids.len()];
                    for ((id, &d), slot) in ids.iter().zip(scratch.iter()).zip(defer) {
                        slot.put(match d.push() {
                            true => 0,
                            false => deferral_ms(p, Recipient::Id(id.as_ref())).unwrap_or(0),
                        });
                    }
                }
            }
        })
    }

    /// Decides `handles` (words of [`UserHandle::to_bits`]) into `out`, and
    /// deferrals into `defer`, as [`decide_ids`](Self::decide_ids), each
    /// written once straight into its slot. A handle
    /// these settings did not issue is an error naming `handles[i]`; `out`
    /// is then all zeros (and `defer` too).
    pub fn decide_handles<O: Slot<DndDecision>, D: Slot<i64>>(
        &self,
        handles: &[u64],
        out: &mut [O],
        mut defer: Option<&mut [D]>,
    ) -> Result<(), Failure> {
        assert_eq!(handles.len(), out.len(), "one decision per handle");
        if let Some(defer) = &defer {
            assert_eq!(handles.len(), defer.len(), "one deferral per handle");
        }
        let decided = self.with(|p| {
            let mut chunk = [UserHandle::from_bits(0); CHUNK];
            for (i, (words, out)) in handles.chunks(CHUNK).zip(out.chunks_mut(CHUNK)).enumerate() {
                for (h, &w) in chunk.iter_mut().zip(words) {
                    *h = UserHandle::from_bits(w);
                }
                let chunk = &chunk[..words.len()];
                let decided = match defer.as_deref_mut() {
                    // Each decision written once, straight into its slot.
                    None => p.decide_each(chunk, |k, d| out[k].put(DndDecision::of(d))),
                    Some(defer) => {
                        let defer = &mut defer[i * CHUNK..i * CHUNK + words.len()];
                        p.decide_each(chunk, |k, d| {
                            out[k].put(DndDecision::of(d));
                            defer[k].put(match d.push() {
                                true => 0,
                                false => deferral_ms(p, Recipient::Handle(chunk[k])).unwrap_or(0),
                            });
                        })
                    }
                };
                if let Err(e) = decided {
                    let at = chunk.iter().position(|&h| p.decide(h).is_err()).unwrap_or(0);
                    return Err(Failure::of(&format!("handles[{}]", i * CHUNK + at), e));
                }
            }
            Ok(())
        });
        if decided.is_err() {
            fill(out, DndDecision::default());
            if let Some(defer) = defer {
                fill(defer, 0);
            }
        }
        decided
    }

    /// Recipient `id`'s entry of a `decisions` line with its explanation, the
    /// object `dnd explain --json` writes: `userId`, `push`, `by`, `level`,
    /// `deferUntil` when deferred, `explanation`.
    pub fn explain_id(&self, id: &str) -> String {
        self.with(|p| line_json(&DecisionLine::explain(p, id)))
    }

    /// As [`explain_id`](Self::explain_id), for a handle.
    pub fn explain_handle(&self, handle: u64) -> Result<String, Failure> {
        let h = UserHandle::from_bits(handle);
        self.with(|p| {
            let _known = p.decide(h).map_err(|e| Failure::of("handle", e))?;
            let id = self.settings().user_id(h).unwrap_or_default();
            Ok(line_json(&DecisionLine::explain(p, id)))
        })
    }

    /// The `decisions` line `dnd replay` writes for the push's recipients.
    pub fn decisions_json(&self) -> String {
        self.with(|p| {
            let mut out = b"{\"decisions\":[".to_vec();
            for (i, id) in self.recipients().iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // Writing to a Vec cannot fail.
                let _ = DecisionLine::decide(p, id).write_to(&mut out);
            }
            out.extend_from_slice(b"]}");
            String::from_utf8(out).unwrap_or_default()
        })
    }
}

/// The deferred push of `recipient`, in epoch milliseconds.
fn deferral_ms(p: &PreparedMessage<'_>, recipient: Recipient<'_>) -> Option<i64> {
    Some(p.defer(recipient).ok()??.until.timestamp_millis())
}

fn line_json(line: &DecisionLine<'_>) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = line.write_to(&mut out);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnd_engine::chrono_tz::UTC;
    use dnd_engine::{Config, SharedSettings, UserId};

    const PUSH: &str =
        r#"{"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": ["a", "b", "s"]}"#;

    fn shared() -> SharedSettings {
        let s = SharedSettings::new(Settings::new(Config::new(UTC)));
        let r = s.handle(
            "/conversation/notification/set.json",
            b"conversationType=3&requestId=a&targetId=g&unpushLevel=5",
        );
        assert_eq!(r.code(), 200);
        s
    }

    #[test]
    fn every_object_may_cross_threads() {
        fn shared_between_threads<T: Send + Sync>() {}
        shared_between_threads::<Prepared>();
        shared_between_threads::<crate::Owned>();
        shared_between_threads::<crate::DndSettings>();
        shared_between_threads::<crate::DndShared>();
        shared_between_threads::<crate::DndPrepared>();
    }

    #[test]
    fn batches_decide_as_the_core_and_a_foreign_handle_zeroes_the_batch() {
        let s = shared();
        let ids = ["a", "b", "s", "nobody"];
        let handles: Vec<u64> = ids
            .iter()
            .map(|id| s.intern_user(&UserId::new(id).unwrap()).unwrap().to_bits())
            .collect();
        let p = Prepared::from_json(s.read(), PUSH).unwrap();
        let mut scratch = Vec::new();
        let (mut by_id, mut by_handle) = ([DndDecision::default(); 4], [DndDecision::default(); 4]);
        p.decide_ids(&ids, &mut by_id, None::<&mut [i64]>, &mut scratch);
        p.decide_handles(&handles, &mut by_handle, None::<&mut [i64]>).unwrap();
        assert_eq!(by_id, by_handle);
        let core: Vec<DndDecision> = p.with(|core| ids.iter().map(|id| DndDecision::of(core.decide_id(id))).collect());
        assert_eq!(&by_id[..], &core[..]);
        assert_eq!(
            (by_id[0].push, by_id[1].push, by_id[2].layer),
            (0, 1, crate::DND_LAYER_SENDER)
        );

        let other = Prepared::from_json(shared().read(), PUSH).unwrap();
        let mut out = [DndDecision {
            push: 9,
            ..DndDecision::default()
        }; 4];
        let e = other
            .decide_handles(&handles, &mut out, None::<&mut [i64]>)
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("handles[0]"));
        assert_eq!(out, [DndDecision::default(); 4]);
        assert!(other.explain_handle(handles[0]).is_err());
        assert!(p
            .explain_handle(handles[0])
            .unwrap()
            .starts_with(r#"{"userId":"a","push":false"#));
        assert_eq!(
            p.decisions_json(),
            r#"{"decisions":[{"userId":"a","push":false,"by":"user_conversation","level":5},{"userId":"b","push":true,"by":"none","level":-1},{"userId":"s","push":false,"by":"sender","level":null}]}"#
        );
    }

    #[test]
    fn threads_decide_one_message_while_the_settings_change() {
        let s = shared();
        let p = Prepared::from_json(s.read(), PUSH).unwrap();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    let mut out = [DndDecision::default(); 3];
                    for _ in 0..200 {
                        p.decide_ids(p.recipients(), &mut out, None::<&mut [i64]>, &mut Vec::new());
                        assert_eq!(out.map(|d| d.push), [0, 1, 0]);
                    }
                });
            }
            scope.spawn(|| {
                for i in 0..200 {
                    let body = format!(
                        "conversationType=3&requestId=a&targetId=g&unpushLevel={}",
                        [-1, 5][i % 2]
                    );
                    assert_eq!(
                        s.handle("/conversation/notification/set.json", body.as_bytes()).code(),
                        200
                    );
                }
            });
        });
    }
}
