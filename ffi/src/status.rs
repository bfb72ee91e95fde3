//! What a call answers when it fails: a [`DndStatus`] code, and a
//! [`Failure`] that says why in words and names the field it is about.

use std::fmt;

use dnd_engine::Error;

/// The outcome of a call: `DND_STATUS_OK`, or why nothing was done.
///
/// A code other than `DND_STATUS_OK` comes with a message (when the caller
/// asked for one) that names the argument or field it is about.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DndStatus {
    /// Done.
    Ok = 0,
    /// A pointer the call needs was NULL.
    Null = 1,
    /// Text that must be UTF-8 is not (or a C string where one is needed is
    /// not NUL-terminated within its stated length).
    Utf8 = 2,
    /// An input was refused: JSON that is not JSON, a field of the wrong
    /// kind or value, a saved state that does not describe settings. The
    /// message names the field (`push.recipients[3]`, `config.timeZone`,
    /// `ids[7]`). Nothing was changed.
    Invalid = 3,
    /// A user handle that these settings did not issue (other settings, an
    /// older restore), or one numbered after the version deciding.
    ForeignHandle = 4,
    /// The settings are held by prepared messages (or a save in progress):
    /// a change to `DndSettings` waits for them to be freed. Use
    /// `DndShared` to change settings while messages are decided.
    Busy = 5,
    /// The settings number as many users as they can (2³²).
    Full = 6,
    /// A bug: a panic was caught at the boundary. The object the call was
    /// given may be unusable (it answers this code again), and the message
    /// says what panicked.
    Internal = 7,
}

/// A refused call: its code, the field it is about (if any) and a message
/// in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The code.
    pub status: DndStatus,
    /// The argument or field the failure is about: `config.timeZone`,
    /// `push.recipients[3]`, `ids[2]`, `userId`, `snapshot`.
    pub field: Option<String>,
    /// What went wrong, in words, naming the field.
    pub message: String,
}

impl Failure {
    /// A failure with `status` about `field`.
    pub fn new(status: DndStatus, field: impl Into<String>, message: impl fmt::Display) -> Failure {
        let field = field.into();
        let message = format!("{field}: {message}");
        Failure {
            status,
            field: Some(field),
            message,
        }
    }

    /// A required pointer that was NULL.
    pub fn null(argument: &str) -> Failure {
        Failure::new(DndStatus::Null, argument, "must not be NULL")
    }

    /// Text that is not UTF-8.
    pub fn utf8(argument: &str) -> Failure {
        Failure::new(DndStatus::Utf8, argument, "is not valid UTF-8")
    }

    /// An engine error about the input `field` (when the error does not
    /// name a field of its own).
    pub fn of(field: &str, error: Error) -> Failure {
        let status = match error {
            Error::ForeignHandle(_) | Error::HandleNotYetNumbered { .. } => DndStatus::ForeignHandle,
            Error::TooManyUsers => DndStatus::Full,
            _ => DndStatus::Invalid,
        };
        match &error {
            // The error names its field (`push.at`) itself.
            Error::Field { path, .. } => Failure {
                status,
                field: Some(path.clone()),
                message: error.to_string(),
            },
            _ => Failure::new(status, field, error),
        }
    }

    /// A panic caught at the boundary.
    pub fn panic(payload: &(dyn std::any::Any + Send)) -> Failure {
        let what = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a panic with no message");
        Failure {
            status: DndStatus::Internal,
            field: None,
            message: format!("internal error (a bug in dnd-engine; please report it): {what}"),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_engine_error_keeps_its_own_field() {
        let e = dnd_engine::push::Push::from_json(
            r#"{"at": true, "conversationType": 3, "fromUserId": "s", "recipients": []}"#,
        )
        .unwrap_err();
        let f = Failure::of("push", e);
        assert_eq!(f.status, DndStatus::Invalid);
        assert_eq!(f.field.as_deref(), Some("push.at"), "{f}");
    }

    #[test]
    fn handles_and_capacity_have_their_codes() {
        assert_eq!(
            Failure::of("h", Error::ForeignHandle(3)).status,
            DndStatus::ForeignHandle
        );
        assert_eq!(Failure::of("h", Error::TooManyUsers).status, DndStatus::Full);
        let f = Failure::of("ids[2]", Error::TimeZone("x".into()));
        assert_eq!(f.field.as_deref(), Some("ids[2]"));
        assert!(f.message.starts_with("ids[2]: "), "{f}");
    }

    #[test]
    fn a_panic_says_what_panicked() {
        let payload = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
        let f = Failure::panic(&*payload);
        assert_eq!(f.status, DndStatus::Internal);
        assert!(f.message.contains("boom 1"), "{f}");
    }
}
