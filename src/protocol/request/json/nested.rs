//! The objects inside a request: `conversation`, `period` and `snooze`,
//! each read field by field with the field's full name (`period.level`) in
//! errors, and checked as the form's parameters are.

use serde::de::MapAccess;

use super::reader::{raw, required, Object, Raw};
use super::until;
use crate::error::Error;
use crate::error::Excerpt;
use crate::model::expiring::Snooze;
use crate::model::schedule::QuietLevel;
use crate::model::DndPeriod;
use crate::protocol::request::params;

#[derive(Default)]
pub(super) struct ConversationFields {
    pub(super) conversation_type: Option<Raw>,
    pub(super) target_id: Option<Raw>,
    pub(super) bus_channel: Option<Raw>,
    pub(super) unknown: Option<Excerpt>,
}

impl Object for ConversationFields {
    const FIELDS: &'static [&'static str] = &["conversationType", "targetId", "busChannel"];

    fn read<'de, A: MapAccess<'de>>(&mut self, name: &'static str, map: &mut A) -> Result<(), A::Error> {
        let slot = match name {
            "conversationType" => &mut self.conversation_type,
            "targetId" => &mut self.target_id,
            _ => &mut self.bus_channel,
        };
        let name = match name {
            "conversationType" => "conversation.conversationType",
            "targetId" => "conversation.targetId",
            _ => "conversation.busChannel",
        };
        raw(slot, name, map)
    }

    fn unknown_slot(&mut self) -> &mut Option<Excerpt> {
        &mut self.unknown
    }
}

#[derive(Default)]
pub(super) struct PeriodFields {
    start_time: Option<Raw>,
    period: Option<Raw>,
    level: Option<Raw>,
    timezone: Option<Raw>,
    unknown: Option<Excerpt>,
}

impl Object for PeriodFields {
    const FIELDS: &'static [&'static str] = &["startTime", "period", "level", "timezone"];

    fn read<'de, A: MapAccess<'de>>(&mut self, name: &'static str, map: &mut A) -> Result<(), A::Error> {
        let (slot, name) = match name {
            "startTime" => (&mut self.start_time, "period.startTime"),
            "period" => (&mut self.period, "period.period"),
            "level" => (&mut self.level, "period.level"),
            _ => (&mut self.timezone, "period.timezone"),
        };
        raw(slot, name, map)
    }

    fn unknown_slot(&mut self) -> &mut Option<Excerpt> {
        &mut self.unknown
    }
}

#[derive(Default)]
pub(super) struct SnoozeFields {
    until: Option<Raw>,
    level: Option<Raw>,
    unknown: Option<Excerpt>,
}

impl Object for SnoozeFields {
    const FIELDS: &'static [&'static str] = &["until", "level"];

    fn read<'de, A: MapAccess<'de>>(&mut self, name: &'static str, map: &mut A) -> Result<(), A::Error> {
        let (slot, name) = match name {
            "until" => (&mut self.until, "snooze.until"),
            _ => (&mut self.level, "snooze.level"),
        };
        raw(slot, name, map)
    }

    fn unknown_slot(&mut self) -> &mut Option<Excerpt> {
        &mut self.unknown
    }
}

impl SnoozeFields {
    /// As the form: `until` required, `level` 1, 2, 4 or 5 and 5 if absent.
    pub(super) fn into_snooze(self) -> Result<Snooze, Error> {
        if let Some(field) = self.unknown {
            return Err(Error::UnknownRequestField {
                request: "snooze",
                field,
            });
        }
        let until = until(required(self.until, "snooze.until")?, "snooze.until")?;
        let level = match self.level {
            Some(raw) => {
                QuietLevel::from_code(raw.integer("snooze.level")?).map_err(|e| e.in_parameter("snooze.level"))?
            }
            None => QuietLevel::Nothing,
        };
        Ok(Snooze { until, level })
    }
}

impl PeriodFields {
    pub(super) fn into_period(self) -> Result<DndPeriod, Error> {
        if let Some(field) = self.unknown {
            return Err(Error::UnknownRequestField {
                request: "period",
                field,
            });
        }
        let names = ["period.startTime", "period.period", "period.level", "period.timezone"];
        let start = required(self.start_time, names[0])?.text(names[0])?;
        let minutes = required(self.period, names[1])?.integer(names[1])?;
        let level = required(self.level, names[2])?.integer(names[2])?;
        let zone = self.timezone.map(|z| z.text(names[3])).transpose()?;
        params::period(names, &start, minutes, level, zone.as_deref())
    }
}
