//! Mentions (RULES §3): whom a message mentions, and how it reaches one
//! recipient. Both types are built to grow: @here (the members online) and
//! @role (the holders of a role) are variants that a later version can add
//! without breaking a caller.

/// Whom a message mentions (RULES §3): nobody, @all, or a list of user ids.
///
/// Non-exhaustive: mentions that later versions may add (@here, for the
/// members online; @role, for the holders of a role) are new variants, so a
/// `match` on this type keeps a wildcard arm and keeps compiling. A new
/// variant comes with its input (who is online, who holds a role) on the
/// message, and with a way of reaching a recipient in [`Mentioned`].
///
/// ```
/// use dnd_engine::Mentions;
/// fn describe(m: Mentions<'_>) -> &'static str {
///     match m {
///         Mentions::None => "nobody",
///         Mentions::All => "@all",
///         Mentions::Users(_) => "some users",
///         _ => "a mention this version does not know",
///     }
/// }
/// assert_eq!(describe(Mentions::All), "@all");
/// ```
///
/// Without the wildcard arm, a `match` does not compile, so adding @here
/// breaks no caller:
///
/// ```compile_fail
/// use dnd_engine::Mentions;
/// fn describe(m: Mentions<'_>) -> &'static str {
///     match m {
///         Mentions::None => "nobody",
///         Mentions::All => "@all",
///         Mentions::Users(_) => "some users",
///     }
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mentions<'a> {
    /// No mention.
    #[default]
    None,
    /// @all (`mentionedInfo.type` 1).
    All,
    /// These users by id (`mentionedInfo.type` 2). An empty list mentions no one.
    Users(&'a [&'a str]),
}

/// How a message mentions one recipient (RULES §3), as far as a level cares.
///
/// Non-exhaustive, as [`Mentions`] is: a later mention (@here, @role) adds
/// its way of reaching a recipient here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mentioned {
    /// Not at all, or the conversation type does not read mentions.
    No,
    /// Through @all.
    All,
    /// By the recipient's own id.
    Me,
}
