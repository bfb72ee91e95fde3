//! The oracle's side: deciding with the naive walk (the snapshot is read
//! into it by `read`).

use dnd_engine::{ConversationType, Layer, Message, Settings};

use crate::naive::{as_naive, Naive};

/// What agreed with the oracle, of the less travelled kinds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Agreed {
    /// Decisions by the urgent or vip layer.
    pub break_through: u64,
    /// Decisions of a message that the mention policy reads otherwise.
    pub mention_policy: u64,
}

/// Whether the mention policy of `config` changes how `message` reads:
/// a private chat as a mention, or an @all that governance may turn off.
fn under_mention_policy(config: &dnd_engine::Config, message: &Message<'_>) -> bool {
    let t = message.conversation.conversation_type();
    let private = config.private_as_mention && t == ConversationType::Private;
    let governed = (config.mention_all_max_members.is_some() || !message.mention_all_allowed)
        && message.mentions == dnd_engine::Mentions::All
        && matches!(t, ConversationType::Group | ConversationType::UltraGroup);
    private || governed
}

/// Checks that every way of deciding agrees with the oracle for every one
/// of `recipients`: by id one at a time and in batches, by handle one at a
/// time, in batches and lazily.
pub fn decisions_agree(
    settings: &Settings,
    oracle: &Naive,
    message: &Message<'_>,
    recipients: &[String],
) -> Result<Agreed, String> {
    let p = settings.prepare(message);
    let single: Vec<_> = recipients.iter().map(|r| p.decide_id(r)).collect();
    let mut agreed = Agreed::default();
    let policy = under_mention_policy(settings.config(), message);
    for (r, d) in recipients.iter().zip(&single) {
        let want = oracle.decide(message, r);
        if as_naive(*d) != want {
            return Err(format!(
                "recipient {r:?}: the engine decides {d:?}, the oracle {want:?}"
            ));
        }
        if matches!(d.by(), Layer::Urgent | Layer::Vip) {
            agreed.break_through += 1;
        }
        if policy && d.level().is_some() {
            agreed.mention_policy += 1;
        }
    }
    let mut out = Vec::new();
    p.decide_ids_into(recipients, &mut out);
    if out != single {
        return Err(format!("decide_ids_into {out:?} differs from decide_id {single:?}"));
    }
    let (handles, known): (Vec<_>, Vec<_>) = recipients
        .iter()
        .zip(&single)
        .filter_map(|(r, d)| settings.user(r).map(|h| (h, *d)))
        .unzip();
    p.decide_into(&handles, &mut out)
        .map_err(|e| format!("decide_into refused the settings' own handles: {e}"))?;
    if out != known {
        return Err(format!("decide_into {out:?} differs from decide_id {known:?}"));
    }
    let lazily: Vec<_> = p
        .decisions(&handles)
        .map_err(|e| format!("decisions() refused the settings' own handles: {e}"))?
        .collect();
    if lazily != known {
        return Err(format!("decisions() {lazily:?} differs from decide_id {known:?}"));
    }
    let one_by_one: Vec<_> = handles
        .iter()
        .map(|&h| p.decide(h))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("decide refused the settings' own handles: {e}"))?;
    if one_by_one != known {
        return Err(format!("decide {one_by_one:?} differs from decide_id {known:?}"));
    }
    Ok(agreed)
}
