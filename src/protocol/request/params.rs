//! One check per kind of parameter value, shared by the form bodies and the
//! JSON form of [`Request`](crate::Request), so that both accept the same
//! values and word their errors alike: only the name differs, the form's
//! parameter (`requestId`) or the JSON field (`userId`).

use crate::error::Error;
use crate::model::{
    parse_zone, BusChannel, ConversationKey, ConversationType, DndPeriod, DndWindow, Level, PeriodLevel, TargetId,
    TimeOfDay, UserId,
};

/// A text value, which is never empty.
pub(super) fn text<'v>(name: &'static str, value: &'v str) -> Result<&'v str, Error> {
    if value.is_empty() {
        Err(Error::EmptyParameter(name))
    } else {
        Ok(value)
    }
}

pub(super) fn user_id(name: &'static str, value: &str) -> Result<UserId, Error> {
    UserId::new(text(name, value)?).map_err(|e| e.in_parameter(name))
}

pub(super) fn target_id(name: &'static str, value: &str) -> Result<TargetId, Error> {
    TargetId::new(text(name, value)?).map_err(|e| e.in_parameter(name))
}

pub(super) fn bus_channel(name: &'static str, value: &str) -> Result<BusChannel, Error> {
    BusChannel::new(text(name, value)?).map_err(|e| e.in_parameter(name))
}

pub(super) fn conversation_type(name: &'static str, code: i64) -> Result<ConversationType, Error> {
    ConversationType::from_code(code).map_err(|e| e.in_parameter(name))
}

/// A DND level where 0 ("not set", which removes a setting) may be given.
pub(super) fn level(name: &'static str, code: i64) -> Result<Option<Level>, Error> {
    Level::from_code(code).map_err(|e| e.in_parameter(name))
}

/// The deprecated `isMuted`: 1 means level 5, 0 means not set.
pub(super) fn is_muted(name: &'static str, code: i64) -> Result<Option<Level>, Error> {
    match code {
        0 => Ok(None),
        1 => Ok(Some(Level::Nothing)),
        _ => Err(Error::IsMuted(code).in_parameter(name)),
    }
}

pub(super) fn period_level(name: &'static str, code: i64) -> Result<PeriodLevel, Error> {
    PeriodLevel::from_code(code).map_err(|e| e.in_parameter(name))
}

pub(super) fn start_time(name: &'static str, value: &str) -> Result<TimeOfDay, Error> {
    text(name, value)?.parse().map_err(|e: Error| e.in_parameter(name))
}

pub(super) fn zone(name: &'static str, value: &str) -> Result<chrono_tz::Tz, Error> {
    parse_zone(text(name, value)?).map_err(|e| e.in_parameter(name))
}

/// A period of 1 to 1439 minutes from its parts, checked in the order of the
/// names: start, length, level, zone.
pub(super) fn period(
    names: [&'static str; 4],
    start: &str,
    minutes: i64,
    level: i64,
    timezone: Option<&str>,
) -> Result<DndPeriod, Error> {
    let [start_name, minutes_name, level_name, zone_name] = names;
    let start = start_time(start_name, start)?;
    let window = DndWindow::new(start, minutes).map_err(|e| e.in_parameter(minutes_name));
    let level = period_level(level_name, level);
    let zone = timezone.map(|z| zone(zone_name, z)).transpose();
    Ok(DndPeriod {
        window: window?,
        level: level?,
        zone: zone?,
    })
}

/// A conversation key, with the subchannel refused for types other than 10
/// (an error about `bus_name`).
pub(super) fn conversation_key(
    conversation_type: ConversationType,
    target_id: TargetId,
    bus_channel: Option<BusChannel>,
    bus_name: &'static str,
) -> Result<ConversationKey, Error> {
    ConversationKey::new(conversation_type, target_id, bus_channel).map_err(|e| e.in_parameter(bus_name))
}
