//! Generation: a world's ids, valid requests and their form bodies, messages
//! and their push objects. Everything valid here is valid by the rules, so
//! that the driver can demand that it be accepted.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use dnd_engine::{
    BusChannel, Config, Conversation, ConversationKey, ConversationType, DndPeriod, DndWindow, Level, Mentions,
    Message, PeriodLevel, Request, TargetId, TimeOfDay, UserId,
};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};

/// Zones with and without daylight saving, with odd offsets.
pub const ZONES: [Tz; 8] = [
    chrono_tz::UTC,
    chrono_tz::Asia::Shanghai,
    chrono_tz::America::New_York,
    chrono_tz::Europe::London,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Asia::Kathmandu,
    chrono_tz::Pacific::Chatham,
    chrono_tz::America::St_Johns,
];

/// The ids one episode's world is made of. Few, so that requests and
/// messages meet; odd, so that encodings are exercised.
pub struct World {
    /// The users that settings are made for and decisions asked about
    /// (2 to 16).
    pub users: Vec<String>,
    /// The group and ultra group ids messages are sent to (1 to 4).
    pub groups: Vec<String>,
    /// The ultra groups' bus channels a message may carry (1 to 3).
    pub buses: Vec<String>,
}

/// An id of the kind `i` (one of 12), numbered `n`: each is a valid user or
/// target id (1 to 64 bytes of UTF-8).
fn odd_id(kind: u32, n: u32) -> String {
    match kind {
        0..=3 => format!("u{n}"),
        4 => format!("ü{n}"),
        5 => format!("用户{n}"),
        6 => format!("{:x<60}{n:04}", "long"),
        7 if !crate::avoid().fffd => format!("a\u{FFFD}{n}"),
        8 => format!("a b+c{n}"),
        9 => format!("k&v=%41{n}"),
        10 => format!("emoji😀{n}"),
        _ => format!("-.{n}_*"),
    }
}

impl World {
    /// Draws a world: a handful of ids of every odd kind (non-ASCII, long,
    /// with form-encoding characters).
    pub fn new(rng: &mut SmallRng) -> World {
        let users = (0..rng.gen_range(2..=16))
            .map(|n| odd_id(rng.gen_range(0..12), n))
            .collect();
        let groups = (0..rng.gen_range(1..=4))
            .map(|n| odd_id(rng.gen_range(0..12), 100 + n))
            .collect();
        let n = rng.gen_range(1..=3);
        let buses = ["c0", "c1", "news", "A1b2", "abcdefghij0123456789"]
            .choose_multiple(rng, n)
            .map(|s| s.to_string())
            .collect();
        World { users, groups, buses }
    }

    /// One of the world's users, at random.
    pub fn user(&self, rng: &mut SmallRng) -> &str {
        self.users.choose(rng).unwrap()
    }

    fn group(&self, rng: &mut SmallRng) -> &str {
        self.groups.choose(rng).unwrap()
    }

    fn bus(&self, rng: &mut SmallRng) -> &str {
        self.buses.choose(rng).unwrap()
    }

    /// A user of the world, or now and then one it has never seen.
    pub fn someone(&self, rng: &mut SmallRng) -> String {
        if rng.gen_ratio(1, 6) {
            format!("stranger{}", rng.gen_range(0..4))
        } else {
            self.user(rng).to_owned()
        }
    }
}

/// The engine's setup for an episode: a time zone among [`ZONES`], up to
/// two app defaults, and now and then a mention policy.
pub fn config(rng: &mut SmallRng) -> Config {
    let mut config = Config::new(*ZONES.choose(rng).unwrap());
    for _ in 0..rng.gen_range(0..3) {
        config = config.with_app_default(conversation_type(rng), level(rng));
    }
    crate::policy::mention_policy(rng, config)
}

/// Any of the conversation types, each as likely.
pub fn conversation_type(rng: &mut SmallRng) -> ConversationType {
    *ConversationType::ALL.choose(rng).unwrap()
}

/// Any level a setting can hold, each as likely.
pub fn level(rng: &mut SmallRng) -> Level {
    *[
        Level::All,
        Level::Mentions,
        Level::MentionsOfMe,
        Level::MentionsOfAll,
        Level::Nothing,
    ]
    .choose(rng)
    .unwrap()
}

fn maybe_level(rng: &mut SmallRng) -> Option<Level> {
    rng.gen_ratio(4, 5).then(|| level(rng))
}

fn period(rng: &mut SmallRng) -> DndPeriod {
    DndPeriod {
        window: DndWindow::new(
            TimeOfDay::from_seconds(rng.gen_range(0..86_400)).unwrap(),
            if rng.gen_ratio(1, 10) {
                1439
            } else {
                rng.gen_range(1..=1439)
            },
        )
        .unwrap(),
        level: if rng.gen() {
            PeriodLevel::Nothing
        } else {
            PeriodLevel::Mentions
        },
        zone: rng.gen_ratio(1, 2).then(|| *ZONES.choose(rng).unwrap()),
    }
}

fn conversation_key(rng: &mut SmallRng, w: &World) -> ConversationKey {
    let t = conversation_type(rng);
    let target = match t {
        ConversationType::Private | ConversationType::System => w.someone(rng),
        _ => w.group(rng).to_owned(),
    };
    let bus = (t == ConversationType::UltraGroup && rng.gen()).then(|| BusChannel::new(w.bus(rng)).unwrap());
    ConversationKey::new(t, TargetId::new(&target).unwrap(), bus).unwrap()
}

/// Any of the nine requests or the four policy requests, valid, about the
/// world's ids.
pub fn request(rng: &mut SmallRng, w: &World) -> Request {
    if rng.gen_ratio(1, 5) {
        return crate::policy::request(rng, w);
    }
    if rng.gen_ratio(1, 6) {
        return crate::for_me::request(rng, w);
    }
    let user_id = UserId::new(&w.someone(rng)).unwrap();
    match rng.gen_range(0..12) {
        0..=1 => Request::SetPeriod {
            user_id,
            period: period(rng),
        },
        2 => Request::DeletePeriod { user_id },
        3 => Request::GetPeriod { user_id },
        4..=6 => Request::SetConversationLevel {
            user_id,
            conversation: conversation_key(rng, w),
            level: maybe_level(rng),
        },
        7 => Request::GetConversationLevel {
            user_id,
            conversation: conversation_key(rng, w),
        },
        8 => Request::SetTypeLevel {
            user_id,
            conversation_type: conversation_type(rng),
            level: maybe_level(rng),
        },
        9 => Request::GetTypeLevel {
            user_id,
            conversation_type: conversation_type(rng),
        },
        10 => Request::SetUltraGroupDefault {
            group_id: TargetId::new(w.group(rng)).unwrap(),
            bus_channel: rng.gen::<bool>().then(|| BusChannel::new(w.bus(rng)).unwrap()),
            level: maybe_level(rng),
        },
        _ => Request::GetUltraGroupDefault {
            group_id: TargetId::new(w.group(rng)).unwrap(),
            bus_channel: rng.gen::<bool>().then(|| BusChannel::new(w.bus(rng)).unwrap()),
        },
    }
}

/// The form parameters of a conversation key.
fn conversation_params(key: &ConversationKey, user: &UserId) -> Vec<(&'static str, String)> {
    let mut p = vec![
        ("conversationType", key.conversation_type().code().to_string()),
        ("requestId", user.to_string()),
        ("targetId", key.target_id().to_string()),
    ];
    if let Some(bus) = key.bus_channel() {
        p.push(("busChannel", bus.to_string()));
    }
    p
}

/// The path and form parameters of `request`, as a client could send them
/// (one of the ways, chosen at random); `None` for a request this driver
/// does not know how to send.
pub fn form_of(rng: &mut SmallRng, request: &Request) -> Option<(&'static str, Vec<(&'static str, String)>)> {
    let code = |l: Option<Level>| Level::code_of(l).to_string();
    let mut params = match request {
        Request::SetPeriod { user_id, period } => {
            let mut p = vec![
                ("userId", user_id.to_string()),
                ("startTime", period.window.start().to_string()),
                ("period", period.window.minutes().to_string()),
                ("level", period.level.level().code().to_string()),
            ];
            if let Some(zone) = period.zone {
                p.push(("timezone", zone.name().to_owned()));
            }
            ("/user/blockPushPeriod/set.json", p)
        }
        Request::DeletePeriod { user_id } if rng.gen() => (
            "/user/blockPushPeriod/set.json",
            vec![
                ("userId", user_id.to_string()),
                ("startTime", "01:02:03".into()),
                ("period", "0".into()),
                ("level", if rng.gen() { "1" } else { "5" }.into()),
            ],
        ),
        Request::DeletePeriod { user_id } => (
            "/user/blockPushPeriod/delete.json",
            vec![("userId", user_id.to_string())],
        ),
        Request::GetPeriod { user_id } => ("/user/blockPushPeriod/get.json", vec![("userId", user_id.to_string())]),
        Request::SetConversationLevel {
            user_id,
            conversation,
            level,
        } => {
            let mut p = conversation_params(conversation, user_id);
            match level {
                None if rng.gen_ratio(1, 3) => p.push(("isMuted", "0".into())),
                Some(Level::Nothing) if rng.gen_ratio(1, 3) => p.push(("isMuted", "1".into())),
                _ => p.push(("unpushLevel", code(*level))),
            }
            ("/conversation/notification/set.json", p)
        }
        Request::GetConversationLevel { user_id, conversation } => (
            "/conversation/notification/get.json",
            conversation_params(conversation, user_id),
        ),
        Request::SetTypeLevel {
            user_id,
            conversation_type,
            level,
        } => (
            "/conversation/type/notification/set.json",
            vec![
                ("conversationType", conversation_type.code().to_string()),
                ("requestId", user_id.to_string()),
                ("unpushLevel", code(*level)),
            ],
        ),
        Request::GetTypeLevel {
            user_id,
            conversation_type,
        } => (
            "/conversation/type/notification/get.json",
            vec![
                ("conversationType", conversation_type.code().to_string()),
                ("requestId", user_id.to_string()),
            ],
        ),
        Request::SetUltraGroupDefault {
            group_id,
            bus_channel,
            level,
        } => {
            let mut p = vec![("groupId", group_id.to_string()), ("unpushLevel", code(*level))];
            if let Some(bus) = bus_channel {
                p.push(("busChannel", bus.to_string()));
            }
            ("/ultragroup/notdisturb/set.json", p)
        }
        Request::GetUltraGroupDefault { group_id, bus_channel } => {
            let mut p = vec![("groupId", group_id.to_string())];
            if let Some(bus) = bus_channel {
                p.push(("busChannel", bus.to_string()));
            }
            ("/ultragroup/notdisturb/get.json", p)
        }
        other => match crate::policy::form_of(rng, other) {
            Some(form) => form,
            None => crate::for_me::form_of(other)?,
        },
    };
    // Unknown parameters are ignored; a parameter repeated with the same value is one.
    if rng.gen_ratio(1, 4) {
        params.1.push(("signature", "abc123".into()));
    }
    if rng.gen_ratio(1, 8) && !params.1.is_empty() {
        let i = rng.gen_range(0..params.1.len());
        params.1.push(params.1[i].clone());
    }
    params.1.shuffle(rng);
    Some(params)
}

/// `pairs` as a form body, each byte encoded in one of the ways a client
/// may choose.
pub fn encode(rng: &mut SmallRng, pairs: &[(&str, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    let put = |out: &mut Vec<u8>, s: &str, rng: &mut SmallRng| {
        for &b in s.as_bytes() {
            let plain = b.is_ascii_alphanumeric() || b"-._*".contains(&b);
            if plain && !rng.gen_ratio(1, 16) {
                out.push(b);
            } else if b == b' ' && rng.gen() {
                out.push(b'+');
            } else if rng.gen() {
                out.extend_from_slice(format!("%{b:02X}").as_bytes());
            } else {
                out.extend_from_slice(format!("%{b:02x}").as_bytes());
            }
        }
    };
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        put(&mut out, k, rng);
        out.push(b'=');
        put(&mut out, v, rng);
    }
    out
}

/// Every path the API serves: the platform's and the extensions', from the
/// crate.
pub fn paths() -> Vec<&'static str> {
    dnd_engine::api::PATHS
        .iter()
        .chain(&dnd_engine::api::extensions::PATHS)
        .chain(&dnd_engine::api::member_requests::PATHS)
        .copied()
        .collect()
}

/// A time for `until`: RFC 3339 with an offset or epoch milliseconds, from
/// 2020 to 2030 (so that messages fall on both sides of it).
fn until(rng: &mut SmallRng) -> String {
    let ms = rng.gen_range(1_577_836_800_000i64..1_893_456_000_000);
    let at = DateTime::from_timestamp_millis(ms).unwrap();
    match rng.gen_range(0..3) {
        0 => ms.to_string(),
        1 => at.to_rfc3339(),
        _ => at.with_timezone(ZONES.choose(rng).unwrap()).to_rfc3339(),
    }
}

/// A valid body for one of the extension requests (an `until` on a set
/// path, a snooze, a weekly schedule, or their gets and deletes).
pub fn extension_form(rng: &mut SmallRng, w: &World) -> (&'static str, Vec<(&'static str, String)>) {
    let user = w.someone(rng);
    match rng.gen_range(0..6) {
        0 | 1 => {
            let request = loop {
                let r = request(rng, w);
                if matches!(
                    r,
                    Request::SetConversationLevel { .. }
                        | Request::SetTypeLevel { .. }
                        | Request::SetUltraGroupDefault { .. }
                ) {
                    break r;
                }
            };
            let (path, mut pairs) = form_of(rng, &request).unwrap();
            pairs.push(("until", until(rng)));
            (path, pairs)
        }
        2 => {
            let mut pairs = vec![("userId", user), ("until", until(rng))];
            if rng.gen() {
                pairs.push(("level", ["1", "2", "4", "5"].choose(rng).unwrap().to_string()));
            }
            ("/user/snooze/set.json", pairs)
        }
        3 => {
            // Windows on disjoint days, none past midnight: they never overlap.
            let mut days: Vec<u8> = (1..=7).collect();
            days.shuffle(rng);
            let n = rng.gen_range(1..=3);
            let windows: Vec<Value> = days
                .chunks(7usize.div_ceil(n))
                .map(|days| {
                    let start = rng.gen_range(0..86_340);
                    let level = *[1, 2, 4, 5].choose(rng).unwrap();
                    json!({
                        "days": days,
                        "startTime": TimeOfDay::from_seconds(start).unwrap().to_string(),
                        "period": rng.gen_range(1..=(86_400 - start) / 60),
                        "level": level,
                    })
                })
                .collect();
            let mut pairs = vec![("userId", user), ("windows", Value::Array(windows).to_string())];
            if rng.gen() {
                pairs.push(("timezone", ZONES.choose(rng).unwrap().name().to_owned()));
            }
            ("/user/blockPushSchedule/set.json", pairs)
        }
        4 => (
            *["/user/snooze/get.json", "/user/blockPushSchedule/get.json"]
                .choose(rng)
                .unwrap(),
            vec![("userId", user)],
        ),
        _ => (
            *["/user/snooze/delete.json", "/user/blockPushSchedule/delete.json"]
                .choose(rng)
                .unwrap(),
            vec![("userId", user)],
        ),
    }
}

/// A message, owned, in the parts a push object carries.
#[derive(Clone, Debug)]
pub struct OwnedMessage {
    /// The kind of conversation it is sent in.
    pub conversation_type: ConversationType,
    /// The group it is sent to (ignored for private and system messages).
    pub target: String,
    /// The bus channel of an ultra group message, if it names one.
    pub bus: Option<String>,
    /// Who sent it: a user of the world, or now and then a stranger.
    pub sender: String,
    /// 0 none, 1 @all, 2 users.
    pub mention: u8,
    /// The users it mentions when `mention` is 2.
    pub mentioned: Vec<String>,
    /// Whether the sender asked for no push at all.
    pub disable_push: bool,
    /// When it was sent; now and then before 1970 or after 2099, which the
    /// engine must refuse rather than decide.
    pub at: DateTime<Utc>,
    /// Urgent, the member count and whether @all is allowed.
    pub policy: crate::policy::MessagePolicy,
    /// Its text, scanned for keywords (empty: none).
    pub text: String,
    /// The user groups it mentions (only with a mention of type 1 or 2,
    /// which a push needs to carry them).
    pub groups: Vec<String>,
}

/// Draws a message in the world `w`, mostly sent between 2020 and 2030.
pub fn message(rng: &mut SmallRng, w: &World) -> OwnedMessage {
    let conversation_type = conversation_type(rng);
    let ms = match rng.gen_range(0..20) {
        // Around the epoch, and far into the past and future.
        0 => rng.gen_range(-4_000_000_000_000i64..0),
        1 => rng.gen_range(4_102_444_800_000i64..8_000_000_000_000),
        // 2020 to 2030.
        _ => rng.gen_range(1_577_836_800_000i64..1_893_456_000_000),
    };
    OwnedMessage {
        conversation_type,
        target: w.group(rng).to_owned(),
        bus: (conversation_type == ConversationType::UltraGroup && rng.gen::<bool>()).then(|| w.bus(rng).to_owned()),
        sender: w.someone(rng),
        mention: rng.gen_range(0..3),
        mentioned: (0..rng.gen_range(0..5)).map(|_| w.someone(rng)).collect(),
        disable_push: rng.gen_ratio(1, 12),
        at: DateTime::from_timestamp_millis(ms).unwrap(),
        policy: crate::policy::message_policy(rng),
        text: crate::for_me::text(rng),
        groups: crate::for_me::groups(rng),
    }
}

impl OwnedMessage {
    /// The message; `mentioned` is `self.mentioned` then (with a mention)
    /// `self.groups`, borrowed, as [`OwnedMessage::mentioned`] gives them. `None` when its
    /// time is not one the engine decides at (not a `Timestamp`: before
    /// 1970, or from 2100 on, where the zone tables end).
    pub fn message<'a>(&'a self, mentioned: &'a [&'a str]) -> Option<Message<'a>> {
        let at = dnd_engine::Timestamp::new(self.at).ok()?;
        let conversation = match self.conversation_type {
            ConversationType::Private => Conversation::Private,
            ConversationType::Group => Conversation::Group { group_id: &self.target },
            ConversationType::System => Conversation::System,
            _ => Conversation::UltraGroup {
                group_id: &self.target,
                bus_channel: self.bus.as_deref(),
            },
        };
        let (users, groups) = mentioned.split_at(self.mentioned.len().min(mentioned.len()));
        let mut m = Message::new(conversation, &self.sender, at)
            .with_mentions(match self.mention {
                0 => Mentions::None,
                1 => Mentions::All,
                _ => Mentions::Users(users),
            })
            .with_text(&self.text)
            .with_mentioned_groups(groups);
        if self.disable_push {
            m = m.with_push_disabled();
        }
        if self.policy.urgent {
            m = m.with_urgent();
        }
        if let Some(n) = self.policy.member_count {
            m = m.with_member_count(n);
        }
        Some(m.with_mention_all_allowed(self.policy.mention_all_allowed))
    }

    /// The ids [`OwnedMessage::message`] borrows: the mentioned users, then
    /// (with a mention, as a push carries them) the mentioned groups.
    pub fn mentioned(&self) -> Vec<&str> {
        let groups = match self.mention {
            0 => &[][..],
            _ => &self.groups[..],
        };
        self.mentioned.iter().chain(groups).map(String::as_str).collect()
    }

    /// The push object of the replay protocol for this message and `recipients`.
    pub fn push(&self, rng: &mut SmallRng, recipients: &[String]) -> Value {
        let mut push = json!({
            "at": if rng.gen() { json!(self.at.timestamp_millis()) } else { json!(self.at.to_rfc3339()) },
            "conversationType": self.conversation_type.code(),
            "targetId": self.target,
            "fromUserId": self.sender,
            "recipients": recipients,
        });
        if let Some(bus) = &self.bus {
            push["busChannel"] = json!(bus);
        }
        match self.mention {
            0 => {}
            1 => push["mentionedInfo"] = json!({"type": 1}),
            _ => push["mentionedInfo"] = json!({"type": 2, "userIdList": self.mentioned}),
        }
        if self.mention != 0 && !self.groups.is_empty() {
            push["mentionedInfo"]["userGroupIds"] = json!(self.groups);
        }
        if !self.text.is_empty() {
            push["text"] = json!(self.text);
        }
        if self.disable_push || rng.gen_ratio(1, 4) {
            push["disablePush"] = json!(self.disable_push);
        }
        self.policy.write(rng, &mut push);
        push
    }
}

/// Recipients for a decision: the world's users, in random order with
/// repeats, and a few it has never seen.
pub fn recipients(rng: &mut SmallRng, w: &World) -> Vec<String> {
    let mut r: Vec<String> = w.users.clone();
    for _ in 0..rng.gen_range(0..6) {
        r.push(w.someone(rng));
    }
    r.shuffle(rng);
    r
}
