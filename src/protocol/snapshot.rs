//! Saving and restoring the whole settings state with serde.
//!
//! The saved form is meant to be read by people as JSON: users in handle
//! order (so handles survive a restore), each with their period or schedule,
//! snooze, type levels and temporary levels; then conversations sorted by
//! type and target, each with its default (and temporary default), its
//! users' levels and its subchannels. It is lossless: a restored state
//! answers every request and every decision as the saved one did, and saving
//! it again gives the same bytes.
//!
//! Format 2 is written; format 3 when a user has a repeated-sender setting
//! or the save carries held items ([`save_with_held`], restored with
//! [`Restored`]); format 1 (no schedules, snoozes, temporary levels,
//! VIP lists, urgent consent, mention policy or keywords) still restores. A restore refuses anything undocumented (unknown fields,
//! an array where an object belongs, a duplicate field, a duplicate entry)
//! with an error naming where it is: `users[3].conversationTypes[1]: ...`.
//! The format allows `null` nowhere: an optional field that is not set is
//! left out, and a `null` in its place is refused (`users[0].period: null is
//! not allowed ...`), never read as absent.

mod format;
mod held;
mod member_lists;
mod regroup;

pub use held::{save_with_held, Restored, WithHeld};

use std::collections::HashSet;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;
use crate::model::policy::VipList;
use crate::model::shape::Obj;
use crate::model::{parse_zone, BusChannel, ConversationKey, ConversationType, Level, TargetId, UserId};
use crate::store::{AppDefaults, Config, LevelMap, Settings, UserHandle};
use format::{
    ConversationSnapshot, Snapshot, SubchannelSnapshot, TemporaryConversationLevel, TemporarySnapshot,
    TemporaryTypeLevel, TypeLevel, UserGroupSnapshot, UserLevel, UserSnapshot, VipSnapshot, FORMAT, FORMAT_3,
};

fn type_levels(get: impl Fn(ConversationType) -> Option<Level>) -> Vec<Obj<TypeLevel>> {
    ConversationType::ALL
        .into_iter()
        .filter_map(|t| {
            get(t).map(|unpush_level| {
                Obj(TypeLevel {
                    conversation_type: t,
                    unpush_level,
                })
            })
        })
        .collect()
}

/// `Some(items)` unless there are none: an empty list is left out of a save.
fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

/// Refuses a second `key` at `place`.
fn once<K: std::hash::Hash + Eq + std::fmt::Debug>(seen: &mut HashSet<K>, key: K, place: &str) -> Result<(), Error> {
    let text = format!("{key:?}");
    if seen.insert(key) {
        Ok(())
    } else {
        Err(Error::snapshot(format_args!("{place}: {text} is listed twice")))
    }
}

/// Prefixes an error with the place it was found.
fn at(place: &str) -> impl Fn(Error) -> Error + '_ {
    move |e| match e {
        Error::Snapshot(what) => Error::snapshot(format_args!("{place}.{what}")),
        other => Error::snapshot(format_args!("{place}: {other}")),
    }
}

impl Settings {
    fn user_levels(&self, map: &LevelMap) -> Vec<Obj<UserLevel>> {
        let mut levels: Vec<_> = map.iter().collect();
        levels.sort_unstable_by_key(|&(h, _)| h);
        levels
            .into_iter()
            .map(|(h, unpush_level)| {
                Obj(UserLevel {
                    user_id: self.user_id_at(h).unwrap_or_default().to_owned(),
                    unpush_level,
                })
            })
            .collect()
    }

    fn user_snapshot(&self, h: UserHandle) -> UserSnapshot {
        let id = self.user_id(h).unwrap_or_default();
        let extras = self.extras.get(&h.number());
        UserSnapshot {
            user_id: id.to_owned(),
            period: self.period(id).map(Obj),
            schedule: extras.and_then(|e| e.schedule.as_ref()).map(|(s, _)| Obj(s.clone())),
            snooze: extras.and_then(|e| e.snooze).map(Obj),
            conversation_types: type_levels(|t| self.record(h).type_level(t.index())),
            temporary_conversation_types: non_empty(
                ConversationType::ALL
                    .into_iter()
                    .filter_map(|t| {
                        let temp = extras?.type_temps[t.index()]?;
                        Some(Obj(TemporaryTypeLevel {
                            conversation_type: t,
                            temporary: TemporarySnapshot::of(temp),
                        }))
                    })
                    .collect(),
            ),
            temporary_conversations: non_empty(extras.map_or_else(Vec::new, |e| {
                let mut temps: Vec<_> = e
                    .conversation_temps
                    .iter()
                    .map(|(k, t)| {
                        Obj(TemporaryConversationLevel {
                            conversation_type: k.conversation_type(),
                            target_id: k.target_id().to_string(),
                            bus_channel: k.bus_channel().map(ToString::to_string),
                            temporary: TemporarySnapshot::of(*t),
                        })
                    })
                    .collect();
                temps.sort_unstable_by(|a, b| {
                    (a.0.conversation_type, &a.0.target_id, &a.0.bus_channel).cmp(&(
                        b.0.conversation_type,
                        &b.0.target_id,
                        &b.0.bus_channel,
                    ))
                });
                temps
            })),
            vip: self.vip_list(id).map(|list| {
                Obj(VipSnapshot {
                    user_ids: list.user_ids().iter().map(ToString::to_string).collect(),
                    scope: list.scope(),
                })
            }),
            urgent_allowed: self.urgent_allowed(id).then_some(true),
            keywords: self.keywords.get(h.number()).cloned(),
            muted_senders: Some(self.muted_senders(id)).filter(|m| !m.is_empty()),
            repeat: Some(self.repeat(id))
                .filter(|&r| r != crate::hold::Repeat::DEFAULT)
                .map(Obj),
        }
    }

    fn snapshot(&self) -> Snapshot {
        let users: Vec<Obj<UserSnapshot>> = (0..self.user_count())
            .map(|i| Obj(self.user_snapshot(self.handle_at(i))))
            .collect();
        let format = match users.iter().any(|u| u.0.repeat.is_some()) {
            true => FORMAT_3,
            false => FORMAT,
        };
        let mut conversations = Vec::new();
        for t in ConversationType::ALL {
            let mut targets: Vec<_> = self.conversations[t.index()].iter().collect();
            targets.sort_unstable_by(|a, b| a.0.cmp(b.0));
            for (target, entry) in targets {
                let mut subchannels: Vec<_> = entry.subchannels.iter().collect();
                subchannels.sort_unstable_by(|a, b| a.0.cmp(b.0));
                conversations.push(Obj(ConversationSnapshot {
                    conversation_type: t,
                    target_id: target.to_string(),
                    default: entry.default.permanent,
                    default_temporary: entry.default.temporary.map(TemporarySnapshot::of),
                    users: self.user_levels(&entry.users),
                    subchannels: subchannels
                        .into_iter()
                        .map(|(bus, sub)| {
                            Obj(SubchannelSnapshot {
                                bus_channel: bus.to_string(),
                                default: sub.default.permanent,
                                default_temporary: sub.default.temporary.map(TemporarySnapshot::of),
                                users: self.user_levels(&sub.users),
                            })
                        })
                        .collect(),
                }));
            }
        }
        Snapshot {
            format,
            time_zone: self.config.time_zone.name().to_owned(),
            app_defaults: type_levels(|t| self.config.app_defaults.get(t)),
            private_as_mention: self.config.private_as_mention.then_some(true),
            mention_all_max_members: self.config.mention_all_max_members,
            users,
            conversations,
            user_groups: {
                let mut groups: Vec<_> = self.user_groups.iter().collect();
                groups.sort_unstable_by_key(|&(g, _)| g);
                non_empty(
                    groups
                        .into_iter()
                        .map(|(g, members)| {
                            Obj(UserGroupSnapshot {
                                group_id: g.to_owned(),
                                member_ids: members
                                    .iter()
                                    .map(|&n| self.user_id_at(n as usize).unwrap_or_default().to_owned())
                                    .collect(),
                            })
                        })
                        .collect(),
                )
            },
            members: self.members_snapshot(),
            held: None,
        }
    }

    /// Restores the user groups, whose members must all be in `users`.
    fn restore_user_groups(&mut self, groups: &[Obj<UserGroupSnapshot>]) -> Result<(), Error> {
        let mut seen = HashSet::new();
        for (i, Obj(g)) in groups.iter().enumerate() {
            let place = format!("userGroups[{i}]");
            let group_id = TargetId::new(&g.group_id).map_err(at(&format!("{place}.groupId")))?;
            once(&mut seen, g.group_id.clone(), &format!("{place}.groupId"))?;
            if g.member_ids.is_empty() || g.member_ids.len() > crate::model::id_list::MAX_GROUP_MEMBERS {
                return Err(Error::snapshot(format_args!(
                    "{place}.memberIds: 1 to 10000 members (an empty group is never saved)"
                )));
            }
            let mut members = HashSet::new();
            let mut ids = Vec::with_capacity(g.member_ids.len());
            for (k, id) in g.member_ids.iter().enumerate() {
                let member = format!("{place}.memberIds[{k}]");
                if self.user(id).is_none() {
                    return Err(Error::snapshot(format_args!("{member}: {id:?} is not in users")));
                }
                once(&mut members, id.clone(), &member)?;
                ids.push(UserId::new(id).map_err(at(&member))?);
            }
            self.set_user_group(&group_id, &ids)?;
        }
        Ok(())
    }

    fn restore(s: Snapshot) -> Result<Settings, Error> {
        if !(1..=FORMAT_3).contains(&s.format) {
            return Err(Error::snapshot(format_args!("format: {} is not 1, 2 or 3", s.format)));
        }
        let mut app_defaults = AppDefaults::default();
        let mut seen = HashSet::new();
        for (i, Obj(d)) in s.app_defaults.iter().enumerate() {
            once(
                &mut seen,
                d.conversation_type,
                &format!("appDefaults[{i}].conversationType"),
            )?;
            app_defaults.set(d.conversation_type, Some(d.unpush_level));
        }
        if s.format == 1 && s.user_groups.is_some() {
            return Err(Error::snapshot("userGroups are not in format 1"));
        }
        if s.format == 1 && s.members.is_some() {
            return Err(Error::snapshot("members are not in format 1"));
        }
        if s.format == 1 && (s.private_as_mention.is_some() || s.mention_all_max_members.is_some()) {
            return Err(Error::snapshot(
                "privateAsMention and mentionAllMaxMembers are not in format 1",
            ));
        }
        let mut config = Config::new(parse_zone(&s.time_zone).map_err(at("timeZone"))?);
        config.app_defaults = app_defaults;
        config.private_as_mention = s.private_as_mention.unwrap_or(false);
        config.mention_all_max_members = s.mention_all_max_members;
        let mut settings = Settings::new(config);
        for (i, Obj(u)) in s.users.iter().enumerate() {
            settings.restore_user(u, s.format).map_err(at(&format!("users[{i}]")))?;
        }
        // VIP lists name other users: read once every user has its handle, so
        // that handles survive the restore.
        for (i, Obj(u)) in s.users.iter().enumerate() {
            settings.restore_vip(u).map_err(at(&format!("users[{i}]")))?;
            settings.restore_muted(u).map_err(at(&format!("users[{i}]")))?;
        }
        if let Some(groups) = &s.user_groups {
            settings.restore_user_groups(groups)?;
        }
        if let Some(lists) = &s.members {
            settings.restore_members(lists)?;
        }
        // By key, not by what was stored: an empty first entry stores nothing.
        let mut seen = HashSet::new();
        for (i, Obj(c)) in s.conversations.into_iter().enumerate() {
            let place = format!("conversations[{i}]");
            if !seen.insert((c.conversation_type, c.target_id.clone())) {
                return Err(Error::snapshot(format_args!(
                    "{place}.targetId: conversation {} of type {} is listed twice",
                    c.target_id, c.conversation_type
                )));
            }
            settings.restore_conversation(c, s.format).map_err(at(&place))?;
        }
        // After the permanent levels: setting one clears a temporary level
        // on the same conversation.
        for (i, Obj(u)) in s.users.iter().enumerate() {
            settings
                .restore_temporary_conversations(u)
                .map_err(at(&format!("users[{i}]")))?;
        }
        Ok(settings)
    }

    fn restore_user(&mut self, u: &UserSnapshot, format: u32) -> Result<(), Error> {
        let user_id = UserId::new(&u.user_id).map_err(at("userId"))?;
        if self.user(&u.user_id).is_some() {
            return Err(Error::snapshot(format_args!("userId: {:?} is listed twice", u.user_id)));
        }
        let extended = u.schedule.is_some()
            || u.snooze.is_some()
            || u.temporary_conversation_types.is_some()
            || u.temporary_conversations.is_some();
        if format == 1 && extended {
            return Err(Error::snapshot(
                "a schedule, snooze or temporary level is not in format 1",
            ));
        }
        if format == 1 && (u.vip.is_some() || u.urgent_allowed.is_some()) {
            return Err(Error::snapshot("vip and urgentAllowed are not in format 1"));
        }
        if format == 1 && (u.keywords.is_some() || u.muted_senders.is_some()) {
            return Err(Error::snapshot("keywords and mutedSenders are not in format 1"));
        }
        if u.period.is_some() && u.schedule.is_some() {
            return Err(Error::snapshot("period and schedule: a user has one quiet time"));
        }
        if format < FORMAT_3 && u.repeat.is_some() {
            return Err(Error::snapshot("repeat is not in formats 1 and 2"));
        }
        self.intern_user(&user_id)?;
        if let Some(Obj(r)) = u.repeat {
            self.set_repeat(&user_id, r)?;
        }
        self.set_period(&user_id, u.period.as_ref().map(|p| p.0))?;
        self.set_schedule(&user_id, u.schedule.as_ref().map(|s| s.0.clone()))?;
        self.set_snooze(&user_id, u.snooze.as_ref().map(|s| s.0))?;
        let mut seen = HashSet::new();
        for (i, Obj(t)) in u.conversation_types.iter().enumerate() {
            once(
                &mut seen,
                t.conversation_type,
                &format!("conversationTypes[{i}].conversationType"),
            )?;
            self.set_type_level(&user_id, t.conversation_type, Some(t.unpush_level))?;
        }
        let mut seen = HashSet::new();
        for (i, Obj(t)) in u.temporary_conversation_types.iter().flatten().enumerate() {
            let place = format!("temporaryConversationTypes[{i}]");
            once(&mut seen, t.conversation_type, &format!("{place}.conversationType"))?;
            let temp = t.temporary.0.temporary().map_err(at(&place))?;
            self.set_type_level_until(&user_id, t.conversation_type, temp.level, temp.until)?;
        }
        Ok(())
    }

    /// User `u`'s temporary conversation levels; after the conversations.
    fn restore_temporary_conversations(&mut self, u: &UserSnapshot) -> Result<(), Error> {
        let user_id = UserId::new(&u.user_id).map_err(at("userId"))?;
        let mut seen = HashSet::new();
        for (i, Obj(t)) in u.temporary_conversations.iter().flatten().enumerate() {
            let place = format!("temporaryConversations[{i}]");
            let key = ConversationKey::new(
                t.conversation_type,
                TargetId::new(&t.target_id).map_err(at(&place))?,
                t.bus_channel
                    .as_deref()
                    .map(BusChannel::new)
                    .transpose()
                    .map_err(at(&place))?,
            )
            .map_err(at(&place))?;
            once(&mut seen, key.clone(), &place)?;
            let temp = t.temporary.0.temporary().map_err(at(&place))?;
            self.set_conversation_level_until(&user_id, &key, temp.level, temp.until)?;
        }
        self.set_urgent_allowed(&user_id, u.urgent_allowed.unwrap_or(false))?;
        if let Some(keywords) = &u.keywords {
            if keywords.is_empty() {
                return Err(Error::snapshot(
                    "keywords: an empty list is never saved (a user without keywords has no keywords)",
                ));
            }
            self.set_keywords(&user_id, keywords)?;
        }
        Ok(())
    }

    /// Restores user `u`'s muted senders, whose ids must all be in `users`.
    fn restore_muted(&mut self, u: &UserSnapshot) -> Result<(), Error> {
        let Some(muted) = &u.muted_senders else {
            return Ok(());
        };
        if muted.is_empty() {
            return Err(Error::snapshot(
                "mutedSenders.senderIds: an empty list is never saved (a user who mutes no one has no mutedSenders)",
            ));
        }
        for (i, id) in muted.sender_ids().iter().enumerate() {
            if self.user(id.as_str()).is_none() {
                return Err(Error::snapshot(format_args!(
                    "mutedSenders.senderIds[{i}]: {:?} is not in users",
                    id.as_str()
                )));
            }
        }
        self.set_muted_senders(&UserId::new(&u.user_id)?, muted)
    }

    /// Restores user `u`'s VIP list, whose ids must all be in `users`.
    fn restore_vip(&mut self, u: &UserSnapshot) -> Result<(), Error> {
        let Some(Obj(vip)) = &u.vip else {
            return Ok(());
        };
        if vip.user_ids.is_empty() {
            return Err(Error::snapshot(
                "vip.userIds: an empty list is never saved (a user without a list has no vip)",
            ));
        }
        let mut seen = HashSet::new();
        let mut ids = Vec::with_capacity(vip.user_ids.len().min(VipList::MAX + 1));
        for (i, id) in vip.user_ids.iter().enumerate() {
            let place = format!("vip.userIds[{i}]");
            once(&mut seen, id.as_str(), &place)?;
            ids.push(self.known(id, "is on a VIP list").map_err(at(&place))?);
        }
        let list = VipList::new(ids, vip.scope).map_err(at("vip"))?;
        self.set_vip_list(&UserId::new(&u.user_id)?, &list)
    }

    fn known(&self, id: &str, what: &str) -> Result<UserId, Error> {
        match self.user(id) {
            Some(_) => UserId::new(id),
            None => Err(Error::Invalid(format!("{id:?} {what} but is not in users"))),
        }
    }

    fn restore_levels(&mut self, users: &[Obj<UserLevel>], key: &ConversationKey) -> Result<(), Error> {
        let mut seen = HashSet::new();
        for (i, Obj(u)) in users.iter().enumerate() {
            let place = format!("users[{i}].userId");
            once(&mut seen, u.user_id.as_str(), &place)?;
            let id = self.known(&u.user_id, "has a level").map_err(at(&place))?;
            self.set_conversation_level(&id, key, Some(u.unpush_level))?;
        }
        Ok(())
    }

    fn restore_conversation(&mut self, c: ConversationSnapshot, format: u32) -> Result<(), Error> {
        let t = c.conversation_type;
        let target = TargetId::new(&c.target_id).map_err(at("targetId"))?;
        let is_ultra = t == ConversationType::UltraGroup;
        let timed = c.default_temporary.is_some() || c.subchannels.iter().any(|s| s.0.default_temporary.is_some());
        if format == 1 && timed {
            return Err(Error::snapshot("defaultTemporary is not in format 1"));
        }
        if !is_ultra && (c.default.is_some() || timed || !c.subchannels.is_empty()) {
            return Err(Error::snapshot(format_args!(
                "conversation {target} of type {t} has a default or subchannels, which only ultra groups have"
            )));
        }
        if self.entry(t, target.as_str(), None).is_some() {
            return Err(Error::snapshot(format_args!(
                "targetId: conversation {target} of type {t} is listed twice"
            )));
        }
        let key = ConversationKey::new(t, target.clone(), None)?;
        self.restore_levels(&c.users, &key)?;
        if is_ultra {
            self.set_ultra_group_default(&target, None, c.default);
            if let Some(Obj(temp)) = &c.default_temporary {
                let temp = temp.temporary().map_err(at("defaultTemporary"))?;
                self.set_ultra_group_default_until(&target, None, temp.level, temp.until);
            }
        }
        let mut seen = HashSet::new();
        for (i, Obj(sub)) in c.subchannels.into_iter().enumerate() {
            let place = format!("subchannels[{i}]");
            let bus = BusChannel::new(&sub.bus_channel).map_err(at(&place))?;
            once(&mut seen, bus.clone(), &format!("{place}.busChannel"))?;
            let key = ConversationKey::new(t, target.clone(), Some(bus.clone()))?;
            self.restore_levels(&sub.users, &key).map_err(at(&place))?;
            self.set_ultra_group_default(&target, Some(&bus), sub.default);
            if let Some(Obj(temp)) = &sub.default_temporary {
                let temp = temp.temporary().map_err(at(&place))?;
                self.set_ultra_group_default_until(&target, Some(&bus), temp.level, temp.until);
            }
        }
        Ok(())
    }
}

/// Reads the saved form, naming the path of a fault of its shape.
fn read_snapshot<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Snapshot, D::Error> {
    let Obj(snapshot): Obj<Snapshot> = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        serde::de::Error::custom(format_args!("saved state: {path}: {}", e.into_inner()))
    })?;
    Ok(snapshot)
}

impl Serialize for Settings {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.snapshot().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Settings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Settings, D::Error> {
        let snapshot = read_snapshot(deserializer)?;
        if snapshot.held.is_some() {
            return Err(serde::de::Error::custom(
                "held: this save carries held items, which restoring the settings alone would lose; \
                 restore it with dnd_engine::snapshot::Restored",
            ));
        }
        Settings::restore(snapshot).map_err(serde::de::Error::custom)
    }
}
