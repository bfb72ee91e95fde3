//! What a search reached: counts of the inputs that got through to the
//! engine's less travelled paths, so that a test (and a person reading the
//! summary) can see that the generator covers them, not only that nothing
//! failed.

/// A path of the engine that the driver counts its visits to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// A VIP list set (form or JSON), accepted and followed by the oracle.
    VipSet,
    /// A VIP get answered.
    VipGet,
    /// Urgent consent set, accepted.
    UrgentSet,
    /// Urgent consent get answered.
    UrgentGet,
    /// An accepted push that carries `urgent`, `memberCount` or
    /// `mentionAllAllowed`, decided as the oracle decides it.
    PolicyPush,
    /// A decision by a break-through layer (urgent or vip) that agreed
    /// with the oracle.
    BreakThrough,
    /// A decision under a mention policy (`privateAsMention` or
    /// `mentionAllMaxMembers`) that agreed with the oracle.
    MentionPolicy,
    /// A valid format-1 snapshot restored, read alike by the oracle.
    Format1,
    /// A snapshot of format 2 with its own fields (schedule, snooze,
    /// temporary levels, VIP lists, consent, mention policy) restored and
    /// read alike by the oracle.
    Format2,
    /// A near-valid snapshot (one documented rule broken) refused.
    NearValidRefused,
}

impl Reach {
    /// Every kind, in the order of the summary.
    pub const ALL: [Reach; 10] = [
        Reach::VipSet,
        Reach::VipGet,
        Reach::UrgentSet,
        Reach::UrgentGet,
        Reach::PolicyPush,
        Reach::BreakThrough,
        Reach::MentionPolicy,
        Reach::Format1,
        Reach::Format2,
        Reach::NearValidRefused,
    ];

    /// Its name in the summary.
    pub fn name(self) -> &'static str {
        match self {
            Reach::VipSet => "vip set",
            Reach::VipGet => "vip get",
            Reach::UrgentSet => "urgent set",
            Reach::UrgentGet => "urgent get",
            Reach::PolicyPush => "policy push",
            Reach::BreakThrough => "break-through decision",
            Reach::MentionPolicy => "mention-policy decision",
            Reach::Format1 => "format-1 restore",
            Reach::Format2 => "format-2 restore",
            Reach::NearValidRefused => "near-valid snapshot refused",
        }
    }
}

/// Counts of each [`Reach`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reached([u64; Reach::ALL.len()]);

impl Reached {
    /// One more visit to `r`.
    pub fn hit(&mut self, r: Reach) {
        self.0[r as usize] += 1;
    }

    /// How often `r` was reached.
    pub fn get(&self, r: Reach) -> u64 {
        self.0[r as usize]
    }

    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &Reached) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    /// The counts as `name N, name N, ...`.
    pub fn show(&self) -> String {
        Reach::ALL
            .iter()
            .map(|&r| format!("{} {}", r.name(), self.get(r)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
