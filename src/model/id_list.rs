//! A list of user ids in one JSON form field (a user group's `memberIds`).

use crate::error::Error;
use crate::model::UserId;

/// The most members a user group has.
pub const MAX_GROUP_MEMBERS: usize = 10_000;

/// The user ids of form field `field`: one JSON array of at most `max` user
/// ids, none twice. Errors name the element (`memberIds[2]: ...`).
pub(crate) fn parse_ids(field: &str, json: &str, max: usize) -> Result<Vec<UserId>, Error> {
    let must_be = format!("must be a JSON array of 0 to {max} user ids (strings)");
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| Error::Invalid(format!("{field}: {must_be}; not JSON: {e}")))?;
    let serde_json::Value::Array(items) = value else {
        return Err(Error::Invalid(format!("{field}: {must_be}")));
    };
    if items.len() > max {
        return Err(Error::Invalid(format!("{field}: {} ids, more than {max}", items.len())));
    }
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    let mut ids = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let serde_json::Value::String(id) = item else {
            return Err(Error::Invalid(format!("{field}[{i}]: must be a user id (a string)")));
        };
        let id = UserId::new(id).map_err(|e| Error::Invalid(format!("{field}[{i}]: {e}")))?;
        if !seen.insert(id.as_str().to_owned()) {
            return Err(Error::Invalid(format!(
                "{field}[{i}]: {:?} is listed twice",
                id.as_str()
            )));
        }
        ids.push(id);
    }
    Ok(ids)
}
