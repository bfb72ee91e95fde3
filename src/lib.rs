#![forbid(unsafe_code)]
#![deny(missing_docs)]
//! dnd-engine (docs to come)

mod decide;
mod error;
mod model;
mod settings;

pub use decide::{Conversation, Decision, Explanation, Layer, Message, PeriodAt, PreparedMessage, Recipient, Step};
pub use error::Error;
pub use model::*;
pub use settings::{AppDefaults, Config, Settings, UserHandle};
