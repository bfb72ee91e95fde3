//! The `application/x-www-form-urlencoded` body of a request, decoded as the
//! platform decodes it: pairs split on `&` and the first `=`, `+` read as a
//! space, percent escapes decoded to bytes.
//!
//! A value is checked for UTF-8 on its decoded bytes, and only when the
//! request reads it: so `%EF%BF%BD`, the valid encoding of U+FFFD, is an
//! ordinary character, while `%FF` is "not valid UTF-8"; and an unknown
//! parameter is ignored whatever its bytes.

use std::borrow::Cow;

use percent_encoding::percent_decode;

use super::params;
use crate::error::excerpt::Excerpt;
use crate::error::Error;
use crate::model::{BusChannel, ConversationKey, ConversationType, Level, TargetId, UserId};

/// A name or a value, decoded to bytes.
type Bytes<'b> = Cow<'b, [u8]>;

/// A decoded form body.
pub(crate) struct Form<'b> {
    pairs: Vec<(Bytes<'b>, Bytes<'b>)>,
}

/// One name or value: `+` is a space, then percent escapes are decoded.
fn decode(component: &[u8]) -> Bytes<'_> {
    if component.contains(&b'+') {
        let spaced: Vec<u8> = component.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
        Cow::Owned(Cow::from(percent_decode(&spaced)).into_owned())
    } else {
        percent_decode(component).into()
    }
}

impl<'b> Form<'b> {
    pub(crate) fn decode(body: &'b [u8]) -> Form<'b> {
        let pairs = body
            .split(|&b| b == b'&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = match pair.iter().position(|&b| b == b'=') {
                    Some(i) => (&pair[..i], &pair[i + 1..]),
                    None => (pair, &[][..]),
                };
                (decode(name), decode(value))
            })
            .collect();
        Form { pairs }
    }

    /// The value of `name`, if it is given: once, or repeated with one value;
    /// never empty, always valid UTF-8.
    pub(crate) fn optional(&self, name: &'static str) -> Result<Option<&str>, Error> {
        let mut found: Option<&[u8]> = None;
        for (key, value) in &self.pairs {
            if **key != *name.as_bytes() {
                continue;
            }
            match found {
                Some(first) if first != &**value => return Err(Error::RepeatedParameter(name)),
                _ => found = Some(value),
            }
        }
        match found {
            None => Ok(None),
            Some(value) => {
                let value = std::str::from_utf8(value).map_err(|_| Error::NotUtf8(name))?;
                params::text(name, value).map(Some)
            }
        }
    }

    /// Every value of `name`, in the order given (a parameter the platform
    /// takes repeated, as `/group/join.json`'s `userId`): each never empty,
    /// always valid UTF-8; none when it is not given.
    pub(super) fn all(&self, name: &'static str) -> Result<Vec<&str>, Error> {
        self.pairs
            .iter()
            .filter(|(key, _)| **key == *name.as_bytes())
            .map(|(_, value)| {
                let value = std::str::from_utf8(value).map_err(|_| Error::NotUtf8(name))?;
                params::text(name, value)
            })
            .collect()
    }

    pub(super) fn required(&self, name: &'static str) -> Result<&str, Error> {
        self.optional(name)?.ok_or(Error::MissingParameter(name))
    }

    /// The value of `name`, required, read by `parse`; its error is about `name`.
    pub(super) fn parse<T>(
        &self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, Error>,
    ) -> Result<T, Error> {
        parse(self.required(name)?).map_err(|e| e.in_parameter(name))
    }

    pub(crate) fn optional_number(&self, name: &'static str) -> Result<Option<i64>, Error> {
        self.optional(name)?
            .map(|v| {
                v.parse::<i64>().map_err(|_| Error::NotANumber {
                    name,
                    value: Excerpt::new(v),
                })
            })
            .transpose()
    }

    pub(super) fn number(&self, name: &'static str) -> Result<i64, Error> {
        self.optional_number(name)?.ok_or(Error::MissingParameter(name))
    }

    pub(super) fn level(&self, name: &'static str) -> Result<Option<Level>, Error> {
        params::level(name, self.number(name)?)
    }

    pub(super) fn user_id(&self, name: &'static str) -> Result<UserId, Error> {
        params::user_id(name, self.required(name)?)
    }

    pub(super) fn target_id(&self, name: &'static str) -> Result<TargetId, Error> {
        params::target_id(name, self.required(name)?)
    }

    pub(super) fn conversation_type(&self) -> Result<ConversationType, Error> {
        params::conversation_type("conversationType", self.number("conversationType")?)
    }

    pub(super) fn bus_channel(&self) -> Result<Option<BusChannel>, Error> {
        self.optional("busChannel")?
            .map(|v| params::bus_channel("busChannel", v))
            .transpose()
    }

    /// `conversationType`, `requestId`, `targetId` and `busChannel`.
    pub(super) fn conversation(&self) -> Result<(UserId, ConversationKey), Error> {
        let conversation_type = self.conversation_type()?;
        let user_id = self.user_id("requestId")?;
        let target_id = self.target_id("targetId")?;
        let bus_channel = self.bus_channel()?;
        Ok((
            user_id,
            params::conversation_key(conversation_type, target_id, bus_channel, "busChannel")?,
        ))
    }
}
