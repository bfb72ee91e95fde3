//! One shard's settings made of other shards' settings, split by partition:
//! what a change of layout (resharding) starts the new shards from.
//!
//! Every source covers the same log position and owns a set of partitions;
//! the result holds, for the users of the partitions it keeps, each user's
//! records as the source owning that user's partition holds them, and the
//! state every shard holds alike (the configuration, the admins' defaults of
//! ultra groups and subchannels, the user groups) as the first source holds
//! it; a conversation's members are the kept users' memberships, each from
//! the source owning the member. Users of other partitions appear only as bare ids (no records):
//! where a kept user's VIP list or muted senders, or a user group, names
//! them, or where a source giving kept users held them bare, as they do in
//! a shard that applied the log itself; regrouping a layout into itself
//! gives back the same snapshots byte for byte. So the result answers every
//! get of its users and decides every message for them as a shard of the
//! new layout that had applied the whole log would (`tests/it/shards.rs`,
//! `regrouped_replicas_decide_as_one_settings`).

use std::collections::{BTreeMap, HashSet};

use crate::error::Error;
use crate::model::shape::Obj;
use crate::store::Settings;

use crate::model::{ConversationType, Level};

use super::format::{
    ConversationSnapshot, MembersSnapshot, Snapshot, SubchannelSnapshot, TemporarySnapshot, UserLevel, UserSnapshot,
};

/// A default and its temporary level, as saved.
type Default = (Option<Level>, Option<Obj<TemporarySnapshot>>);

/// A conversation of the result: its defaults (from the first source) and
/// its kept users' levels; its subchannels by bus channel, the same.
struct Merged {
    conversation_type: ConversationType,
    defaults: Default,
    users: Vec<Obj<UserLevel>>,
    subchannels: BTreeMap<String, (Default, Vec<Obj<UserLevel>>)>,
}

impl Settings {
    /// The settings of the users `keep` holds of, made of `sources`: the
    /// records of a user whose id `owner` maps to source `j` are taken from
    /// `sources[j]`, and the state every shard holds alike from
    /// `sources[0]`. The sources must cover the same log position (the
    /// caller's check).
    pub(crate) fn regroup(
        sources: &[&Settings],
        owner: &dyn Fn(&str) -> Option<usize>,
        keep: &dyn Fn(&str) -> bool,
    ) -> Result<Settings, Error> {
        // Each source's users in its order: a kept user's records, or the id
        // of another (kept as a bare id if something names it).
        // (Whether the source holds the id bare: a user of a partition it does
        // not own.)
        let mut listed: Vec<(usize, String, Option<Obj<UserSnapshot>>, bool)> = Vec::new();
        let mut conversations: BTreeMap<(usize, String), Merged> = BTreeMap::new();
        let mut base: Option<Snapshot> = None;
        // Each conversation's kept members, from the source owning each.
        let mut members: BTreeMap<(ConversationType, String), Vec<String>> = BTreeMap::new();
        for (j, source) in sources.iter().enumerate() {
            let kept = |id: &str| keep(id) && owner(id) == Some(j);
            let mut snapshot = source.snapshot();
            for Obj(m) in snapshot.members.take().into_iter().flatten() {
                let ids = m.member_ids.into_iter().filter(|id| kept(id));
                members
                    .entry((m.conversation_type, m.target_id))
                    .or_default()
                    .extend(ids);
            }
            listed.extend(std::mem::take(&mut snapshot.users).into_iter().map(|u| {
                let id = u.0.user_id.clone();
                let held_bare = owner(&id) != Some(j);
                let full = kept(&id).then_some(u);
                (j, id, full, held_bare)
            }));
            for Obj(c) in std::mem::take(&mut snapshot.conversations) {
                let merged = conversations
                    .entry((c.conversation_type.index(), c.target_id))
                    .or_insert_with(|| Merged {
                        conversation_type: c.conversation_type,
                        defaults: (None, None),
                        users: Vec::new(),
                        subchannels: BTreeMap::new(),
                    });
                merged.users.extend(c.users.into_iter().filter(|u| kept(&u.0.user_id)));
                if j == 0 {
                    merged.defaults = (c.default, c.default_temporary);
                }
                for Obj(s) in c.subchannels {
                    let sub = merged
                        .subchannels
                        .entry(s.bus_channel)
                        .or_insert_with(|| ((None, None), Vec::new()));
                    sub.1.extend(s.users.into_iter().filter(|u| kept(&u.0.user_id)));
                    if j == 0 {
                        sub.0 = (s.default, s.default_temporary);
                    }
                }
            }
            if j == 0 {
                base = Some(snapshot);
            } else if let Some(b) = base.as_mut() {
                b.format = b.format.max(snapshot.format);
            }
        }
        let Some(base) = base else {
            return Err(Error::snapshot("regroup: no source"));
        };
        let conversations = conversations
            .into_iter()
            .filter_map(|((_, target_id), m)| conversation(target_id, m))
            .map(Obj)
            .collect();
        // Ids the kept users' lists and the groups name, as bare users.
        let mut named: HashSet<&str> = HashSet::new();
        for (_, _, full, _) in &listed {
            let Some(Obj(u)) = full else { continue };
            if let Some(Obj(vip)) = &u.vip {
                named.extend(vip.user_ids.iter().map(String::as_str));
            }
            if let Some(muted) = &u.muted_senders {
                named.extend(muted.sender_ids().iter().map(|id| id.as_str()));
            }
        }
        for Obj(g) in base.user_groups.iter().flatten() {
            named.extend(g.member_ids.iter().map(String::as_str));
        }
        let full: HashSet<String> = listed.iter().filter(|e| e.2.is_some()).map(|e| e.1.clone()).collect();
        let named: HashSet<String> = named.into_iter().map(str::to_owned).collect();
        // A bare id where the sources that give users list it, else after
        // them; and every id a giving source holds bare (so that regrouping
        // a layout into itself changes nothing: a shard keeps the ids it
        // ever held, as a shard that applied the log would).
        let giving: HashSet<usize> = listed.iter().filter(|e| e.2.is_some()).map(|e| e.0).collect();
        let mut bare: HashSet<String> = HashSet::new();
        let mut users: Vec<Obj<UserSnapshot>> = Vec::with_capacity(listed.len());
        let mut later = Vec::new();
        for (j, id, u, held_bare) in listed {
            match u {
                Some(u) => users.push(u),
                None if !giving.contains(&j) => later.push(id),
                None if (named.contains(&id) || held_bare) && !full.contains(&id) && bare.insert(id.clone()) => {
                    users.push(Obj(UserSnapshot {
                        user_id: id,
                        ..UserSnapshot::default()
                    }));
                }
                None => {}
            }
        }
        for id in later {
            if named.contains(&id) && !full.contains(&id) && bare.insert(id.clone()) {
                users.push(Obj(UserSnapshot {
                    user_id: id,
                    ..UserSnapshot::default()
                }));
            }
        }
        let members: Vec<Obj<MembersSnapshot>> = members
            .into_iter()
            .filter(|(_, ids)| !ids.is_empty())
            .map(|((conversation_type, target_id), member_ids)| {
                Obj(MembersSnapshot {
                    conversation_type,
                    target_id,
                    member_ids,
                })
            })
            .collect();
        Settings::restore(Snapshot {
            users,
            conversations,
            members: (!members.is_empty()).then_some(members),
            ..base
        })
    }
}

/// The merged conversation, or `None` if nothing is left of it.
fn conversation(target_id: String, m: Merged) -> Option<ConversationSnapshot> {
    let subchannels: Vec<Obj<SubchannelSnapshot>> = m
        .subchannels
        .into_iter()
        .filter(|(_, ((default, temporary), users))| !users.is_empty() || default.is_some() || temporary.is_some())
        .map(|(bus_channel, ((default, default_temporary), users))| {
            Obj(SubchannelSnapshot {
                bus_channel,
                default,
                default_temporary,
                users,
            })
        })
        .collect();
    let ((default, default_temporary), users) = (m.defaults, m.users);
    let empty = users.is_empty() && default.is_none() && default_temporary.is_none() && subchannels.is_empty();
    (!empty).then_some(ConversationSnapshot {
        conversation_type: m.conversation_type,
        target_id,
        default,
        default_temporary,
        users,
        subchannels,
    })
}
