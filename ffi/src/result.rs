//! One recipient's decision in four bytes, as a caller's buffer holds it:
//! push, the layer that decided (by a fixed code), the level it applied.

use dnd_engine::{Decision, Layer, Level};

/// The layer codes: the same numbers as the cluster's wire
/// (`dnd_cluster::wire::LAYER_CODES`), fixed for good. The recipient sent
/// the message.
pub const DND_LAYER_SENDER: u8 = 0;
/// The message was sent with `disablePush`.
pub const DND_LAYER_DISABLE_PUSH: u8 = 1;
/// An urgent message to a recipient who allows urgent messages.
pub const DND_LAYER_URGENT: u8 = 2;
/// A sender on the recipient's VIP list.
pub const DND_LAYER_VIP: u8 = 3;
/// The recipient's snooze.
pub const DND_LAYER_USER_SNOOZE: u8 = 4;
/// The recipient's quiet time (a daily period or a weekly schedule).
pub const DND_LAYER_USER_PERIOD: u8 = 5;
/// The recipient's level for the ultra group's subchannel.
pub const DND_LAYER_USER_SUBCHANNEL: u8 = 6;
/// The recipient's level for the conversation.
pub const DND_LAYER_USER_CONVERSATION: u8 = 7;
/// The recipient's level for the conversation type.
pub const DND_LAYER_USER_CONVERSATION_TYPE: u8 = 8;
/// The admin's default for the subchannel.
pub const DND_LAYER_SUBCHANNEL_DEFAULT: u8 = 9;
/// The admin's default for the ultra group.
pub const DND_LAYER_CHANNEL_DEFAULT: u8 = 10;
/// The application's default for the conversation type.
pub const DND_LAYER_APP_DEFAULT: u8 = 11;
/// Nothing was set anywhere: push.
pub const DND_LAYER_NONE: u8 = 12;
/// A repeated sender passed over the recipient's quiet time.
pub const DND_LAYER_REPEAT: u8 = 13;
/// The sender is on the recipient's list of muted senders.
pub const DND_LAYER_MUTED_SENDER: u8 = 14;
/// A layer this build has no code for (never written: a test keeps every
/// layer coded).
pub const DND_LAYER_UNKNOWN: u8 = 255;

/// The code of each layer, in the order of the codes.
pub const LAYER_CODES: [(Layer, u8); 15] = [
    (Layer::Sender, DND_LAYER_SENDER),
    (Layer::DisablePush, DND_LAYER_DISABLE_PUSH),
    (Layer::Urgent, DND_LAYER_URGENT),
    (Layer::Vip, DND_LAYER_VIP),
    (Layer::UserSnooze, DND_LAYER_USER_SNOOZE),
    (Layer::UserPeriod, DND_LAYER_USER_PERIOD),
    (Layer::UserSubchannel, DND_LAYER_USER_SUBCHANNEL),
    (Layer::UserConversation, DND_LAYER_USER_CONVERSATION),
    (Layer::UserConversationType, DND_LAYER_USER_CONVERSATION_TYPE),
    (Layer::SubchannelDefault, DND_LAYER_SUBCHANNEL_DEFAULT),
    (Layer::ChannelDefault, DND_LAYER_CHANNEL_DEFAULT),
    (Layer::AppDefault, DND_LAYER_APP_DEFAULT),
    (Layer::NothingSet, DND_LAYER_NONE),
    (Layer::Repeat, DND_LAYER_REPEAT),
    (Layer::MutedSender, DND_LAYER_MUTED_SENDER),
];

/// The code of `layer`.
#[inline]
pub fn layer_code(layer: Layer) -> u8 {
    match layer {
        Layer::Sender => DND_LAYER_SENDER,
        Layer::DisablePush => DND_LAYER_DISABLE_PUSH,
        Layer::Urgent => DND_LAYER_URGENT,
        Layer::Vip => DND_LAYER_VIP,
        Layer::UserSnooze => DND_LAYER_USER_SNOOZE,
        Layer::UserPeriod => DND_LAYER_USER_PERIOD,
        Layer::UserSubchannel => DND_LAYER_USER_SUBCHANNEL,
        Layer::UserConversation => DND_LAYER_USER_CONVERSATION,
        Layer::UserConversationType => DND_LAYER_USER_CONVERSATION_TYPE,
        Layer::SubchannelDefault => DND_LAYER_SUBCHANNEL_DEFAULT,
        Layer::ChannelDefault => DND_LAYER_CHANNEL_DEFAULT,
        Layer::AppDefault => DND_LAYER_APP_DEFAULT,
        Layer::NothingSet => DND_LAYER_NONE,
        Layer::Repeat => DND_LAYER_REPEAT,
        Layer::MutedSender => DND_LAYER_MUTED_SENDER,
        _ => DND_LAYER_UNKNOWN,
    }
}

/// The layer of code `code`, if there is one.
pub fn layer_of(code: u8) -> Option<Layer> {
    LAYER_CODES.iter().find(|&&(_, c)| c == code).map(|&(l, _)| l)
}

/// One recipient's decision, four bytes: whether a push goes out, the code
/// of the layer that decided (`DND_LAYER_*`), and the level it applied
/// (-1, 1, 2, 4 or 5; 0 when no level decided: the sender, `disablePush`,
/// an urgent message, a VIP with scope `all`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DndDecision {
    /// 1 when a push goes out, 0 when not.
    pub push: u8,
    /// The layer that decided: a `DND_LAYER_*` code.
    pub layer: u8,
    /// The level applied, or 0.
    pub level: i8,
    /// Always 0 (room for flags).
    pub reserved: u8,
}

impl DndDecision {
    /// The compact form of `decision`.
    #[inline]
    pub fn of(decision: Decision) -> DndDecision {
        DndDecision {
            push: u8::from(decision.push()),
            layer: layer_code(decision.by()),
            // Level codes are -1 to 5.
            level: Level::code_of(decision.level()) as i8,
            reserved: 0,
        }
    }

    /// The layer that decided, if the code names one.
    pub fn layer(self) -> Option<Layer> {
        layer_of(self.layer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_has_one_code() {
        let mut coded = LAYER_CODES.map(|(l, _)| l);
        let mut all = Layer::ALL;
        coded.sort_by_key(|l| l.as_str());
        all.sort_by_key(|l| l.as_str());
        assert_eq!(coded, all, "every layer has a code, once");
        for (layer, code) in LAYER_CODES {
            assert_eq!(layer_code(layer), code);
            assert_eq!(layer_of(code), Some(layer));
        }
        assert_eq!(layer_of(DND_LAYER_UNKNOWN), None);
    }

    #[test]
    fn the_codes_are_the_cluster_wires() {
        assert_eq!(&LAYER_CODES[..], dnd_cluster::wire::LAYER_CODES);
    }

    #[test]
    fn a_decision_is_four_bytes() {
        assert_eq!(std::mem::size_of::<DndDecision>(), 4);
    }
}
