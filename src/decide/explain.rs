//! Explanations: the walk down the layers for one recipient, for people.

use std::fmt;

use super::{DefaultLayer, PeriodAt, PreparedMessage, Recipient, Step};
use crate::decide::{Decision, Layer};
use crate::model::{ConversationType, DndPeriod, Level, Mentioned};
use crate::settings::UserHandle;
use crate::Error;

impl PreparedMessage<'_> {
    /// The walk of RULES §4 for user `id`, explained layer by layer: as
    /// [`explain`](Self::explain), for a recipient given by id, which cannot
    /// fail.
    pub fn explain_id(&self, id: &str) -> Explanation {
        self.explain_with(self.settings.user(id), id)
    }

    /// The walk of RULES §4 for one recipient, explained layer by layer; an
    /// error only for a handle these settings did not issue.
    pub fn explain(&self, recipient: Recipient<'_>) -> Result<Explanation, Error> {
        let (handle, id) = match recipient {
            Recipient::Handle(h) => {
                self.settings.check_handle(h)?;
                (Some(h), self.settings.user_id(h).unwrap_or(""))
            }
            Recipient::Id(id) => (self.settings.user(id), id),
        };
        Ok(self.explain_with(handle, id))
    }

    fn explain_with(&self, handle: Option<UserHandle>, id: &str) -> Explanation {
        let decision = self.decide_with(handle, self.record_of(handle), id);
        let period_at = handle.map(|h| self.settings.record(h).period).and_then(|p| {
            let (zone, named) = self.settings.zone_of(p.zone);
            Some(PeriodAt {
                period: DndPeriod {
                    window: p.window()?,
                    level: p.level,
                    zone: named.then_some(zone),
                },
                zone,
                wall: self.wall[p.zone.index()],
            })
        });
        let default_step = |layer: Layer| match self.defaults.iter().find(|(l, _)| *l == layer) {
            Some((_, DefaultLayer::Skipped(why))) => Step::Skipped(why),
            _ => Step::NotSet,
        };
        let mut steps = Vec::new();
        for layer in Layer::ALL {
            if layer == decision.by {
                steps.push((
                    layer,
                    match decision.level {
                        None => Step::Outright,
                        Some(level) => Step::Applied {
                            level,
                            mentioned: self.mentioned(level, handle, id),
                            push: decision.push,
                            period: period_at.filter(|_| layer == Layer::UserPeriod),
                        },
                    },
                ));
                break;
            }
            let skipped = match layer {
                Layer::Sender => Step::Skipped("the recipient did not send the message"),
                Layer::DisablePush => Step::Skipped("the message was sent without disablePush"),
                Layer::UserPeriod => period_at.map_or(Step::NotSet, Step::PeriodInactive),
                Layer::UserSubchannel => self.subchannel.skipped(),
                Layer::UserConversation => self.conversation.skipped(),
                Layer::UserConversationType => Step::NotSet,
                _ => default_step(layer),
            };
            steps.push((layer, skipped));
        }
        Explanation {
            recipient: id.to_owned(),
            conversation_type: self.message.conversation.conversation_type(),
            steps,
            decision,
        }
    }

    /// How the message mentions the recipient, as far as `level` cares (RULES §3).
    fn mentioned(&self, level: Level, handle: Option<UserHandle>, id: &str) -> Mentioned {
        if !self.mentions_count {
            Mentioned::No
        } else if self.mention_all {
            Mentioned::All
        } else if level.reads_personal_mention() && self.mentions_me(handle, id) {
            Mentioned::Me
        } else {
            Mentioned::No
        }
    }
}

/// The walk down the layers for one recipient, for people: see its `Display`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    recipient: String,
    conversation_type: ConversationType,
    steps: Vec<(Layer, Step)>,
    decision: Decision,
}

impl Explanation {
    /// The decision, the same as the fast path's.
    pub fn decision(&self) -> Decision {
        self.decision
    }

    /// What each layer did, from the top down to the one that decided.
    pub fn steps(&self) -> &[(Layer, Step)] {
        &self.steps
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.decision;
        write!(
            f,
            "{}: {} -- {}",
            self.recipient,
            if d.push { "PUSH" } else { "no push" },
            d.by.describe()
        )?;
        if let Some(level) = d.level {
            write!(f, ", level {level}")?;
        }
        writeln!(f)?;
        for &(layer, step) in &self.steps {
            write!(f, "  {:<30} ", format!("{}:", layer.describe()))?;
            match step {
                Step::Outright => match layer {
                    Layer::Sender => writeln!(f, "decides: the sender never gets a push for their own message")?,
                    _ => writeln!(
                        f,
                        "decides: the message was sent with disablePush, which pushes to no one"
                    )?,
                },
                Step::Skipped(why) => writeln!(f, "skipped: {why}")?,
                Step::NotSet => writeln!(f, "skipped: not set")?,
                Step::PeriodInactive(at) => writeln!(f, "skipped: {} was not active at {}", PeriodText(at), at.wall)?,
                Step::Applied {
                    level,
                    mentioned,
                    push,
                    period,
                } => {
                    if let Some(at) = period {
                        write!(f, "decides: {} is active at {}; ", PeriodText(at), at.wall)?;
                    } else {
                        write!(f, "decides: set to ")?;
                    }
                    let why = match (level, mentioned) {
                        (Level::All | Level::Nothing, _) => "",
                        _ if !self.conversation_type.mentions_count() => {
                            "mentions are not read in this conversation type"
                        }
                        (_, Mentioned::All) => "the message mentions @all",
                        (_, Mentioned::Me) => "the message mentions the recipient",
                        (Level::MentionsOfAll, Mentioned::No) => "the message does not mention @all",
                        (Level::MentionsOfMe, Mentioned::No) => "the message does not mention the recipient by id",
                        (_, Mentioned::No) => "the message mentions neither @all nor the recipient",
                    };
                    write!(f, "level {level}")?;
                    if !why.is_empty() {
                        write!(f, "; {why}")?;
                    }
                    writeln!(f, " -> {}", if push { "push" } else { "no push" })?;
                }
            }
        }
        let decided_at = Layer::ALL
            .iter()
            .position(|&l| l == d.by)
            .unwrap_or(Layer::ALL.len() - 1);
        let below: &[Layer] = Layer::ALL.get(decided_at + 1..Layer::ALL.len() - 1).unwrap_or(&[]);
        if !below.is_empty() {
            let names: Vec<&str> = below.iter().map(|l| l.describe()).collect();
            writeln!(f, "  not consulted: {}", names.join(", "))?;
        }
        Ok(())
    }
}

/// A period in words: "22:00:00 + 540 min (level 5) in Asia/Shanghai (the
/// data center's zone)".
struct PeriodText(PeriodAt);

impl fmt::Display for PeriodText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.0;
        write!(
            f,
            "the period {}, level {}, in {}{}",
            at.period.window,
            at.period.level.level().code(),
            at.zone.name(),
            if at.period.zone.is_none() {
                " (the data center's zone)"
            } else {
                ""
            }
        )
    }
}
