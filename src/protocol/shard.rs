//! What a sharded deployment needs from the core, without knowing how the
//! shards talk: which shard a user and a request belong to, applying a
//! request at a log position exactly once, and a snapshot that records the
//! position it covers.
//!
//! # Routing
//!
//! Users are spread over a fixed number of logical [`Partition`]s,
//! [`PARTITIONS`], by a frozen hash of the user id's UTF-8 bytes:
//!
//! ```text
//! h = FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3):
//!     for each byte b: h = (h XOR b) * prime   (wrapping, 64 bits)
//! partition = (h XOR (h >> 32)) mod PARTITIONS
//! ```
//!
//! The fold brings the high half in: neither half alone spreads short ids
//! that differ in their last bytes (`user1`, `user2`, ...) evenly. The hash and
//! [`PARTITIONS`] never change: every producer, in any language, must route a
//! user to the same partition, and a stored log is laid out by them. A
//! deployment of `n` shards ([`Layout`]) gives each shard a contiguous range
//! of partitions; resharding moves whole partitions, never rehashes a user.
//!
//! A request keyed by a user ([`ShardKey::User`]) goes to that user's shard;
//! the admins' defaults ([`ShardKey::Everyone`]) are needed by every shard,
//! since any member's decision may fall through to them.
//!
//! # Why shards decide as one node does
//!
//! A user's requests touch only that user's records, and the admins' defaults
//! touch no user's. So a shard that applies its users' requests and every
//! default, each in log order, holds exactly what one node holding everything
//! holds for those users; and a decision for a recipient reads only the
//! recipient's records and the defaults.
//!
//! ```
//! use dnd_engine::shard::{partition_of, Layout, Replica, ShardKey};
//! use dnd_engine::{Config, Request, Settings, UserId};
//!
//! let layout = Layout::new(3).unwrap();
//! let alice = UserId::new("alice").unwrap();
//! let shard = layout.shard_of_user(alice.as_str());
//! assert_eq!(shard, layout.shard_of(partition_of("alice")));
//!
//! let request = Request::DeletePeriod { user_id: alice.clone() };
//! assert_eq!(request.shard_key(), ShardKey::User(&alice));
//!
//! let mut replica = Replica::new(Settings::new(Config::new(chrono_tz::UTC)));
//! assert!(replica.apply_at(7, &request).is_some());
//! assert!(replica.apply_at(7, &request).is_none()); // a redelivery: skipped
//! assert_eq!(replica.applied(), 7);
//! ```

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::model::UserId;
use crate::protocol::request::Request;
use crate::protocol::request::Response;
use crate::store::Settings;

/// The number of logical partitions. Frozen: changing it moves users.
pub const PARTITIONS: u16 = 256;

const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 64 bits, of `bytes`: the frozen hash behind [`partition_of`].
#[must_use]
pub const fn fnv1a_64(bytes: &[u8]) -> u64 {
    let mut h = FNV_OFFSET_BASIS;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    h
}

/// A logical partition, `0..PARTITIONS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Partition(u16);

impl Partition {
    /// Partition number `n`, if it is below [`PARTITIONS`].
    #[must_use]
    pub const fn new(n: u16) -> Option<Partition> {
        if n < PARTITIONS {
            Some(Partition(n))
        } else {
            None
        }
    }

    /// The partition's number.
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0
    }

    /// Every partition, in order.
    pub fn all() -> impl ExactSizeIterator<Item = Partition> {
        (0..PARTITIONS).map(Partition)
    }
}

/// The partition of the user with id `user_id` (any bytes; the id need not
/// be known to any settings).
#[must_use]
pub const fn partition_of(user_id: &str) -> Partition {
    let h = fnv1a_64(user_id.as_bytes());
    Partition(((h ^ (h >> 32)) % PARTITIONS as u64) as u16)
}

/// A shard of a [`Layout`], `0..shards`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ShardId(pub u16);

impl std::fmt::Display for ShardId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// How many shards the partitions are spread over: shard `i` of `n` holds the
/// contiguous partitions `i * P / n .. (i + 1) * P / n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    shards: u16,
}

impl Layout {
    /// A layout of `shards` shards: 1 to [`PARTITIONS`].
    pub fn new(shards: u16) -> Result<Layout, Error> {
        if (1..=PARTITIONS).contains(&shards) {
            Ok(Layout { shards })
        } else {
            Err(Error::Shards(shards))
        }
    }

    /// The number of shards.
    #[must_use]
    pub const fn shards(self) -> u16 {
        self.shards
    }

    /// Every shard, in order.
    pub fn all(self) -> impl ExactSizeIterator<Item = ShardId> {
        (0..self.shards).map(ShardId)
    }

    /// The shard that holds `partition`.
    #[must_use]
    pub const fn shard_of(self, partition: Partition) -> ShardId {
        ShardId((partition.0 as u32 * self.shards as u32 / PARTITIONS as u32) as u16)
    }

    /// The shard that holds the user with id `user_id`.
    #[must_use]
    pub const fn shard_of_user(self, user_id: &str) -> ShardId {
        self.shard_of(partition_of(user_id))
    }

    /// The partitions of `shard`, in order; empty for a shard not in the layout.
    #[must_use]
    pub fn partitions(self, shard: ShardId) -> Range<u16> {
        let (n, p) = (u32::from(self.shards), u32::from(PARTITIONS));
        let first = |i: u32| -> u16 { (i * p).div_ceil(n).min(p) as u16 };
        match u32::from(shard.0) {
            i if i < n => first(i)..first(i + 1),
            _ => 0..0,
        }
    }
}

/// Where a request must go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShardKey<'r> {
    /// It reads or changes only this user's settings: the user's shard.
    User(&'r UserId),
    /// It reads or changes what every shard holds (the admins' defaults): a
    /// change goes to every shard; a get may be answered by any one.
    Everyone,
    /// It changes these users' settings (a group's members joining or
    /// quitting): each user's part goes to that user's shard
    /// ([`Request::split_by_partition`] cuts it).
    Users(&'r [UserId]),
    /// A get whose answer every shard holds a part of (a group's members,
    /// each on their own shard): every shard is asked, and the parts joined.
    Gather,
}

impl ShardKey<'_> {
    /// The shards a change with this key must reach.
    pub fn shards(self, layout: Layout) -> Range<u16> {
        match self {
            ShardKey::User(user) => {
                let s = layout.shard_of_user(user.as_str()).0;
                s..s + 1
            }
            ShardKey::Everyone | ShardKey::Gather => 0..layout.shards,
            ShardKey::Users(users) => {
                // The range that covers every user's shard; a change is cut
                // by partition before it is sent (`Request::split_by_partition`).
                let shards = users.iter().map(|u| layout.shard_of_user(u.as_str()).0);
                let (lo, hi) = shards.fold((u16::MAX, 0), |(lo, hi), s| (lo.min(s), hi.max(s)));
                if lo > hi {
                    0..0
                } else {
                    lo..hi + 1
                }
            }
        }
    }
}

impl Request {
    /// Which shard the request belongs to.
    ///
    /// Every variant is listed without a wildcard, so that a new request kind
    /// does not compile until its routing is decided here.
    #[must_use]
    pub fn shard_key(&self) -> ShardKey<'_> {
        match self {
            Request::SetPeriod { user_id, .. }
            | Request::DeletePeriod { user_id }
            | Request::GetPeriod { user_id }
            | Request::SetConversationLevel { user_id, .. }
            | Request::GetConversationLevel { user_id, .. }
            | Request::SetTypeLevel { user_id, .. }
            | Request::GetTypeLevel { user_id, .. }
            | Request::SetConversationLevelUntil { user_id, .. }
            | Request::SetTypeLevelUntil { user_id, .. }
            | Request::SetSnooze { user_id, .. }
            | Request::GetSnooze { user_id }
            | Request::DeleteSnooze { user_id }
            | Request::SetSchedule { user_id, .. }
            | Request::GetSchedule { user_id }
            | Request::DeleteSchedule { user_id }
            // A VIP list is its owner's, read when deciding for the owner (the
            // listed senders are only numbered on the owner's shard).
            | Request::SetVip { user_id, .. }
            | Request::GetVip { user_id }
            | Request::SetUrgent { user_id, .. }
            | Request::GetUrgent { user_id }
            // Keywords are their owner's, read when deciding for the owner.
            | Request::SetKeywords { user_id, .. }
            | Request::GetKeywords { user_id }
            // A mute is its owner's, as a VIP list is.
            | Request::SetMutedSenders { user_id, .. }
            | Request::GetMutedSenders { user_id }
            | Request::SetRepeat { user_id, .. }
            | Request::GetRepeat { user_id }
            // A membership is its member's: each shard keeps its own users'
            // memberships, and walks only those.
            | Request::UltraGroupJoin { user_id, .. }
            | Request::UltraGroupQuit { user_id, .. }
            | Request::UltraGroupMemberExist { user_id, .. } => ShardKey::User(user_id),
            Request::GroupJoin { user_ids, .. } | Request::GroupQuit { user_ids, .. } => ShardKey::Users(user_ids),
            // Every shard holds the members among its own users.
            Request::GroupUserQuery { .. } => ShardKey::Gather,
            Request::SetUltraGroupDefault { .. }
            | Request::GetUltraGroupDefault { .. }
            | Request::SetUltraGroupDefaultUntil { .. }
            // Every shard decides for some members of a mentioned group.
            | Request::SetUserGroup { .. }
            | Request::GetUserGroup { .. }
            | Request::DeleteUserGroup { .. } => ShardKey::Everyone,
        }
    }
}

impl Request {
    /// A change keyed by several users ([`ShardKey::Users`]: a group's
    /// members joining or quitting) cut into one request per partition of
    /// its users, in partition order, each naming only that partition's
    /// users, in the order given; `None` for any other request. Joins and
    /// quits are idempotent, so the parts may be applied apart, in any
    /// order, and a part applied twice changes nothing more.
    #[must_use]
    pub fn split_by_partition(&self) -> Option<Vec<(Partition, Request)>> {
        let (group_id, user_ids, join) = match self {
            Request::GroupJoin { group_id, user_ids } => (group_id, user_ids, true),
            Request::GroupQuit { group_id, user_ids } => (group_id, user_ids, false),
            _ => return None,
        };
        let mut parts: std::collections::BTreeMap<Partition, Vec<UserId>> = std::collections::BTreeMap::new();
        for user in user_ids {
            parts.entry(partition_of(user.as_str())).or_default().push(user.clone());
        }
        Some(
            parts
                .into_iter()
                .map(|(p, user_ids)| {
                    let group_id = group_id.clone();
                    let part = if join {
                        Request::GroupJoin { group_id, user_ids }
                    } else {
                        Request::GroupQuit { group_id, user_ids }
                    };
                    (p, part)
                })
                .collect(),
        )
    }
}

/// One shard's settings and the log position they cover: every request at a
/// sequence up to [`Replica::applied`] has been applied, once.
///
/// Serialized, it is the shard's snapshot: `{"applied": SEQ, "settings":
/// SETTINGS}`, where `SETTINGS` is the [`Settings`] snapshot. Restored, it
/// resumes at `applied + 1`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Replica {
    applied: u64,
    settings: Settings,
}

impl Replica {
    /// `settings` with nothing of a log applied yet (sequence 0).
    #[must_use]
    pub fn new(settings: Settings) -> Replica {
        Replica { applied: 0, settings }
    }

    /// The highest sequence applied (or skipped); 0 before any.
    #[must_use]
    pub const fn applied(&self) -> u64 {
        self.applied
    }

    /// The settings.
    #[must_use]
    pub const fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The settings, taken out.
    #[must_use]
    pub fn into_settings(self) -> Settings {
        self.settings
    }

    /// Applies `request`, found at log sequence `seq`, unless a sequence at or
    /// past `seq` was already applied: then it is a redelivery or an
    /// overlapping replay, and `None` is returned with nothing changed.
    ///
    /// Sequences must rise, but need not be consecutive: a shard sees only
    /// its own part of the log.
    pub fn apply_at(&mut self, seq: u64, request: &Request) -> Option<Response> {
        if seq <= self.applied {
            return None;
        }
        self.applied = seq;
        Some(self.settings.apply(request))
    }

    /// The replica of the partitions `keep` of another layout, made of
    /// `sources`: replicas of the shards of one layout, each with the
    /// partitions it owns, all covering the same sequence. Each user of
    /// `keep` gets the records of the source owning their partition; what
    /// every shard holds alike (the admins' defaults, the user groups, the
    /// configuration) comes from the first source. The result covers that
    /// same sequence and holds what a shard owning `keep` that had applied
    /// the log itself would hold: this is how a layout changes without a
    /// replay from the log's start (resharding).
    ///
    /// # Errors
    ///
    /// [`Error::Snapshot`] if there is no source, the sources cover
    /// different sequences, two sources own one partition, or a partition
    /// of `keep` has no source.
    pub fn regroup(sources: &[(Range<u16>, &Replica)], keep: Range<u16>) -> Result<Replica, Error> {
        let Some((_, first)) = sources.first() else {
            return Err(Error::snapshot("regroup: no source"));
        };
        let applied = first.applied;
        if let Some((_, other)) = sources.iter().find(|(_, r)| r.applied != applied) {
            return Err(Error::snapshot(format_args!(
                "regroup: the sources cover sequences {applied} and {}, not one",
                other.applied
            )));
        }
        let mut owner = vec![None::<usize>; usize::from(PARTITIONS)];
        for (j, (range, _)) in sources.iter().enumerate() {
            for p in range.clone() {
                let slot = owner
                    .get_mut(usize::from(p))
                    .ok_or_else(|| Error::snapshot(format_args!("regroup: partition {p} is not below {PARTITIONS}")))?;
                if slot.replace(j).is_some() {
                    return Err(Error::snapshot(format_args!("regroup: two sources own partition {p}")));
                }
            }
        }
        if let Some(p) = keep
            .clone()
            .find(|&p| owner.get(usize::from(p)).copied().flatten().is_none())
        {
            return Err(Error::snapshot(format_args!("regroup: no source owns partition {p}")));
        }
        let settings: Vec<&Settings> = sources.iter().map(|(_, r)| &r.settings).collect();
        let owner_of = |id: &str| owner[usize::from(partition_of(id).get())];
        let kept = |id: &str| keep.contains(&partition_of(id).get());
        Ok(Replica {
            applied,
            settings: Settings::regroup(&settings, &owner_of, &kept)?,
        })
    }

    /// Records that the log at `seq` holds nothing for this shard to apply
    /// (a marker, or an entry it cannot read, which the caller reports).
    /// Returns whether `seq` was new.
    pub fn skip_to(&mut self, seq: u64) -> bool {
        if seq <= self.applied {
            return false;
        }
        self.applied = seq;
        true
    }
}
