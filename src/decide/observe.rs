//! The full walk for one recipient: what each layer of [`WALK`] holds at a
//! given instant. The fanout takes it for users with a schedule, a snooze or
//! a temporary level (their record says so); the explanation and the defer
//! computation take it for everyone. A recipient who may break through (an
//! urgent message they allow, a sender they list as a VIP) and has none of
//! those is decided as the walk would, from the break-through layers and the
//! user layers the general path reads, without building it
//! (`decide_breaking`). It allocates nothing.

use chrono::{DateTime, Utc};

use super::{Decision, OverrideLayer, PreparedMessage, UserLayers};
use crate::decide::walk::{Layer, LayerKind, Quiet, Seen, Walk, FIRST_DEFAULT_LAYER, WALK};
use crate::model::expiring::Expiring;
use crate::model::policy::{Urgency, VipScope};
use crate::model::zone::WallTime;
use crate::model::Level;
use crate::store::{UserHandle, UserRecord, ZoneIndex};

impl PreparedMessage<'_> {
    /// The decision for a user whose record is extended: the full walk at
    /// the message's time.
    #[cold]
    #[inline(never)]
    pub(super) fn decide_extended(&self, handle: Option<UserHandle>, id: &str) -> Decision {
        let walk = self.walk(handle, id, self.message.at.as_datetime(), &|z| self.walls.at(z));
        self.decision_of(&walk, handle, id)
    }

    /// The decision for a recipient who may break through (an urgent
    /// message they allow, a sender they list as a VIP) and whose record is
    /// not extended: what the full walk comes to, without building it. Such
    /// a record has no snooze, schedule or temporary level, so below the
    /// break-through layers the walk sees what the general path reads
    /// (`user_layers`, then the defaults), and its quiet time is the period
    /// alone.
    ///
    /// `urgency` and `vip` are what the break-through layers see for them
    /// ([`urgency`](Self::urgency), [`vip_scope`](Self::vip_scope)).
    #[cold]
    #[inline(never)]
    pub(super) fn decide_breaking(
        &self,
        h: UserHandle,
        record: &UserRecord,
        urgency: Urgency,
        vip: Option<VipScope>,
    ) -> Decision {
        debug_assert!(!record.extended());
        let handle = Some(h);
        let at = self.message.at.as_datetime();
        // The break-through layers, in the order of the walk.
        for &layer in WALK.iter().filter(|l| l.kind() == LayerKind::BreakThrough) {
            let seen = match layer {
                Layer::Urgent => Seen::Urgent(urgency),
                Layer::Vip => Seen::Vip(vip),
                _ => continue,
            };
            if let Some(level) = seen.decides(at) {
                return self.decision_at((layer, level), handle, "");
            }
        }
        // Then as `readings`: the walk, and for a VIP with scope quiet whom
        // it does not push to, the walk with the quiet time passed over.
        let u = self.user_layers(handle, record);
        let (layer, level) = self.choose(u);
        let first = self.decision_at((layer, Some(level)), handle, "");
        if first.push || vip != Some(VipScope::Quiet) {
            return first;
        }
        let (layer, level) = self.choose(UserLayers { period: None, ..u });
        let second = self.decision_at((layer, Some(level)), handle, "");
        if second.push {
            second
        } else {
            first
        }
    }

    /// Whether the message is urgent and the recipient with `handle` allows that.
    #[inline]
    pub(super) fn urgency(&self, handle: Option<UserHandle>) -> Urgency {
        match handle {
            _ if !self.message.urgent => Urgency::NotUrgent,
            Some(h) if self.urgent && self.settings.policies.allows_urgent(h) => Urgency::Allowed,
            _ => Urgency::NotAllowed,
        }
    }

    /// The scope of the sender on the VIP list of the recipient with
    /// `handle`, if the sender is on it.
    #[inline]
    pub(super) fn vip_scope(&self, handle: Option<UserHandle>) -> Option<VipScope> {
        handle.and_then(|h| self.fans?.get(&h.number()).copied())
    }

    /// The decision a walk comes to.
    pub(crate) fn decision_of(&self, walk: &Walk, handle: Option<UserHandle>, id: &str) -> Decision {
        self.readings(walk, handle, id).0
    }

    /// The decision a walk comes to, and the second reading a VIP with scope
    /// `quiet` made it take, if it took one: when the first reading does not
    /// push (below the sender rule and `disablePush`), the walk is read again
    /// with the quiet time passed over, and the message pushes if that
    /// reading does, reported by the layer that pushed. A VIP never makes a
    /// decision quieter: when neither pushes, the first reading stands.
    pub(crate) fn readings(&self, walk: &Walk, handle: Option<UserHandle>, id: &str) -> (Decision, Option<Decision>) {
        let first = self.decision_at(walk.first(), handle, id);
        let (vip, repeat) = (walk.vip_quiet(), walk.repeat());
        if first.push || first.by.kind() == LayerKind::Outright || !(vip || repeat) {
            return (first, None);
        }
        let second = self.decision_at(walk.first_without_quiet(), handle, id);
        let decision = match second.push {
            // A repeated sender's push is the repeat layer's (a VIP's, above
            // it, is reported by the layer that pushed).
            true if !vip && first.by.kind() == LayerKind::Quiet => Decision {
                push: true,
                by: Layer::Repeat,
                level: second.level,
            },
            true => second,
            false => first,
        };
        (decision, Some(second))
    }

    /// The decision of `layer` holding `level`.
    pub(super) fn decision_at(
        &self,
        (layer, level): (Layer, Option<Level>),
        handle: Option<UserHandle>,
        id: &str,
    ) -> Decision {
        match level {
            None => Decision {
                push: layer.kind() == LayerKind::BreakThrough,
                by: layer,
                level: None,
            },
            Some(level) => Decision {
                push: self.pushes[usize::from(self.mentions_me(handle, id))][level.index()],
                by: layer,
                level: Some(level),
            },
        }
    }

    /// What each layer holds for the recipient with `handle` (or the user
    /// `id` whom the settings do not know) at instant `at`, whose wall time
    /// in each zone of the settings is `wall`.
    pub(crate) fn walk(
        &self,
        handle: Option<UserHandle>,
        id: &str,
        at: DateTime<Utc>,
        wall: &dyn Fn(ZoneIndex) -> WallTime,
    ) -> Walk {
        let record = self.record_of(handle);
        let extras = handle.and_then(|h| self.settings.extras.get(&h.number()));
        let conversation_type = self.message.conversation.conversation_type();
        let is_sender = match handle {
            Some(h) => self.audience().sender == Some(h),
            None => id == self.message.sender,
        };
        let user_level = |layer: OverrideLayer<'_>, bus: Option<&str>| match layer {
            OverrideLayer::Skipped(why) => Seen::Skipped(why),
            _ => Seen::Level(Expiring {
                permanent: handle.and_then(|h| layer.get(h)),
                temporary: extras.and_then(|e| e.conversation_temp(conversation_type, self.target, bus)),
            }),
        };
        let mut seen = [Seen::Terminal; WALK.len()];
        for (slot, (i, &layer)) in seen.iter_mut().zip(WALK.iter().enumerate()) {
            *slot = match layer {
                Layer::Sender => Seen::Outright(is_sender),
                Layer::DisablePush => Seen::Outright(self.message.disable_push),
                Layer::MutedSender => self.mute(handle),
                Layer::Urgent => Seen::Urgent(self.urgency(handle)),
                Layer::Vip => Seen::Vip(self.vip_scope(handle)),
                Layer::Repeat => Seen::Repeat(self.repeats(handle, id)),
                Layer::UserSnooze => Seen::Snooze(extras.and_then(|e| e.snooze)),
                Layer::UserPeriod => {
                    let schedule = extras.and_then(|e| e.schedule.as_ref());
                    let period = record.period();
                    Seen::Quiet(match schedule {
                        Some((schedule, z)) => {
                            let (zone, _) = self.settings.zone_of(*z);
                            Quiet::Schedule {
                                hit: schedule.hit(wall(*z)),
                                zone,
                                named: schedule.zone().is_some(),
                            }
                        }
                        _ => match handle.and_then(|h| self.settings.period_of(h)) {
                            Some((p, zone)) => Quiet::Period {
                                period: p,
                                zone,
                                active: period.contains(wall(period.zone).seconds),
                            },
                            None => Quiet::None,
                        },
                    })
                }
                Layer::UserSubchannel => user_level(self.subchannel, self.bus_channel),
                Layer::UserConversation => user_level(self.conversation, None),
                Layer::UserConversationType => Seen::Level(Expiring {
                    permanent: record.type_level(self.type_index),
                    temporary: extras.and_then(|e| e.type_temps[self.type_index]),
                }),
                Layer::SubchannelDefault | Layer::ChannelDefault | Layer::AppDefault => {
                    self.defaults[i - FIRST_DEFAULT_LAYER]
                }
                _ => Seen::Terminal,
            };
        }
        Walk { at, seen }
    }
}
