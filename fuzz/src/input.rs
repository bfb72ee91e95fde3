//! One episode: a world, then inputs of four kinds, each checked against the
//! invariants.

use std::fmt::Write;

use dnd_engine::push::Push;
use dnd_engine::{Request, Settings};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::Value;

use crate::gen::{self, World};
use crate::naive::Naive;
use crate::oracle::{decisions_agree, Agreed};
use crate::reach::{Reach, Reached};
use crate::read::{read_snapshot, Reading};
use crate::snapshots::{self, Expect};
use crate::{mutate, no_panic, Failure, INPUTS_PER_EPISODE};

/// Counts of what the engine did with the inputs.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Inputs the engine took as valid.
    pub accepted: u64,
    /// Inputs the engine turned down with an error.
    pub refused: u64,
    /// How often each less travelled path was reached.
    pub reached: Reached,
}

impl Stats {
    /// Adds another worker's counts to these.
    pub fn add(&mut self, other: &Stats) {
        self.accepted += other.accepted;
        self.refused += other.refused;
        self.reached.add(&other.reached);
    }
}

/// An input as it was fed to the engine.
pub enum Input {
    /// A form-encoded body sent to a request path, as the platform's
    /// server API receives it.
    Form {
        /// The request path (one of the engine's or an unknown one).
        path: String,
        /// The body's bytes, not necessarily UTF-8.
        body: Vec<u8>,
    },
    /// The text of a request in its JSON form.
    RequestJson(Vec<u8>),
    /// The text of a push object of the replay protocol.
    Push(Vec<u8>),
    /// The text of a snapshot to restore.
    Snapshot(Vec<u8>),
}

/// Bytes as text, with everything but printable ASCII escaped.
fn escape(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => write!(s, "\\x{b:02x}").unwrap(),
        }
    }
    s
}

impl Input {
    /// The input on one line, for a failure report or a replayed episode:
    /// its kind, and its bytes with everything but printable ASCII escaped.
    pub fn show(&self) -> String {
        match self {
            Input::Form { path, body } => format!("form {:?} body b\"{}\"", path, escape(body)),
            Input::RequestJson(t) => format!("request JSON b\"{}\"", escape(t)),
            Input::Push(t) => format!("push JSON b\"{}\"", escape(t)),
            Input::Snapshot(t) => format!("snapshot b\"{}\"", escape(t)),
        }
    }
}

/// The episode's state: the engine's settings, the oracle's model of them,
/// and the settings as last saved.
struct State {
    world: World,
    settings: Settings,
    oracle: Naive,
    saved: Vec<u8>,
    /// What the episode reached.
    reached: Reached,
}

fn save(settings: &Settings) -> Result<Vec<u8>, String> {
    no_panic("saving", || serde_json::to_vec(settings))?.map_err(|e| format!("saving failed: {e}"))
}

fn oracle_for(settings: &Settings) -> Naive {
    Naive::of_config(settings.config())
}

/// What an accepted request reached.
fn reached_by(request: &Request) -> Option<Reach> {
    match request {
        Request::SetVip { .. } => Some(Reach::VipSet),
        Request::GetVip { .. } => Some(Reach::VipGet),
        Request::SetUrgent { .. } => Some(Reach::UrgentSet),
        Request::GetUrgent { .. } => Some(Reach::UrgentGet),
        _ => None,
    }
}

impl State {
    /// A refused input (or a get) left the settings as they were.
    fn unchanged(&self, after: &str) -> Result<(), String> {
        if save(&self.settings)? != self.saved {
            return Err(format!("{after}, and yet the settings changed"));
        }
        Ok(())
    }

    /// An accepted change: the oracle follows, and a random message is
    /// decided alike by both.
    fn changed(&mut self, rng: &mut SmallRng, request: &Request) -> Result<(), String> {
        self.oracle.apply(request);
        self.saved = save(&self.settings)?;
        let agreed = decide(rng, &self.world, &self.settings, &self.oracle)?;
        self.count(agreed);
        Ok(())
    }

    /// An accepted request: the oracle follows a change; a get changes nothing.
    fn accepted(&mut self, rng: &mut SmallRng, request: &Request) -> Result<(), String> {
        if let Some(r) = reached_by(request) {
            self.reached.hit(r);
        }
        if request.is_change() {
            self.changed(rng, request)
        } else {
            self.unchanged("a get was answered")
        }
    }

    fn count(&mut self, agreed: Agreed) {
        for _ in 0..agreed.break_through {
            self.reached.hit(Reach::BreakThrough);
        }
        for _ in 0..agreed.mention_policy {
            self.reached.hit(Reach::MentionPolicy);
        }
    }

    /// A random message, decided by `settings` as by `oracle`.
    fn decide(&mut self, rng: &mut SmallRng, settings: &Settings, oracle: &Naive) -> Result<(), String> {
        let agreed = decide(rng, &self.world, settings, oracle)?;
        self.count(agreed);
        Ok(())
    }
}

/// A random message to the world `w`, decided by `settings` as by `oracle`.
fn decide(rng: &mut SmallRng, w: &World, settings: &Settings, oracle: &Naive) -> Result<Agreed, String> {
    let m = gen::message(rng, w);
    let recipients = gen::recipients(rng, w);
    let mentioned = m.mentioned();
    let Some(message) = m.message(&mentioned) else {
        // A time the engine refuses to decide at: nothing to compare.
        return Ok(Agreed::default());
    };
    no_panic("deciding", || decisions_agree(settings, oracle, &message, &recipients))?
        .map_err(|e| format!("{e} (message {message:?})"))
}

impl State {}

/// Runs episode `episode` of `seed` from `rng`; `verbose` prints each input.
pub fn episode(rng: &mut SmallRng, seed: u64, episode: u64, verbose: bool, stats: &mut Stats) -> Result<(), Failure> {
    let fail = |input: Option<u64>, what: String, shown: String| Failure {
        seed,
        episode,
        input,
        what,
        shown,
    };
    let world = World::new(rng);
    let config = gen::config(rng);
    let settings = Settings::new(config);
    let mut st = State {
        world,
        oracle: oracle_for(&settings),
        settings,
        saved: Vec::new(),
        reached: Reached::default(),
    };
    for _ in 0..rng.gen_range(0..24) {
        let request = gen::request(rng, &st.world);
        let answer = st.settings.apply(&request);
        if answer.code() != 200 {
            let what = format!("a valid request was refused: {}", answer.to_json());
            return Err(fail(None, what, format!("{request:?}")));
        }
        if request.is_change() {
            st.oracle.apply(&request);
        }
    }
    st.saved = save(&st.settings).map_err(|e| fail(None, e, String::new()))?;
    if verbose {
        println!(
            "world: users {:?}, groups {:?}, subchannels {:?}",
            st.world.users, st.world.groups, st.world.buses
        );
        println!("settings: {}", String::from_utf8_lossy(&st.saved));
    }
    for i in 0..INPUTS_PER_EPISODE {
        let (input, result) = match rng.gen_range(0..20) {
            0..=9 => form(rng, &mut st),
            10..=13 => request_json(rng, &mut st),
            14..=17 => push(rng, &mut st),
            _ => snapshot(rng, &mut st),
        };
        if verbose {
            println!("#{i}: {} -> {result:?}", input.show());
        }
        match result {
            Ok(true) => stats.accepted += 1,
            Ok(false) => stats.refused += 1,
            Err(what) => return Err(fail(Some(i), what, input.show())),
        }
    }
    // Closing: the whole state restores exactly and decides as the oracle.
    let (input, result) = whole_snapshot(rng, &mut st);
    result.map_err(|what| fail(None, what, input.show()))?;
    stats.reached.add(&st.reached);
    Ok(())
}

const UNKNOWN_PATHS: [&str; 6] = [
    "",
    "/",
    "/user/blockPushPeriod/set",
    "/USER/blockPushPeriod/set.json",
    "/user/blockPushPeriod/set.json/",
    "/conversation/notification/set.json?x=1",
];

/// A form body, valid (then it must be accepted as the request it encodes)
/// or mutated, on a path of the API or an unknown one.
fn form(rng: &mut SmallRng, st: &mut State) -> (Input, Result<bool, String>) {
    // A request of the nine, or (then `None`) of the extensions.
    let (request, (path, pairs)) = if rng.gen_ratio(1, 4) {
        (None, gen::extension_form(rng, &st.world))
    } else {
        let request = gen::request(rng, &st.world);
        let form = gen::form_of(rng, &request).expect("the driver sends every request it generates");
        (Some(request), form)
    };
    let mut body = gen::encode(rng, &pairs);
    let valid = rng.gen_ratio(1, 3);
    let mut path = path.to_owned();
    if !valid {
        match rng.gen_range(0..8) {
            0 => path = UNKNOWN_PATHS.choose(rng).unwrap().to_string(),
            1 | 2 => path = gen::paths().choose(rng).unwrap().to_string(),
            _ => {}
        }
        mutate::form(rng, &mut body);
    }
    let result = (|| {
        let parsed = no_panic("Request::parse", || Request::parse(&path, &body))?;
        match (&request, &parsed) {
            (Some(request), parsed) if valid && parsed.as_ref() != Ok(request) => {
                return Err(format!("the valid request {request:?} was parsed as {parsed:?}"))
            }
            (None, Err(e)) if valid => return Err(format!("a valid extension request was refused: {e}")),
            _ => {}
        }
        let answer = no_panic("Settings::handle", || st.settings.handle(&path, &body))?;
        let json: Value =
            serde_json::from_str(&answer.to_json()).map_err(|e| format!("the answer is not JSON: {e}"))?;
        if json["code"] != answer.code() {
            return Err(format!("the answer {json} does not carry code {}", answer.code()));
        }
        match (parsed, answer.code()) {
            (Ok(r), 200) => {
                request_roundtrip(&r)?;
                st.accepted(rng, &r)?;
                Ok(true)
            }
            (Err(_), code) if code != 200 => {
                st.unchanged(&format!("the request was refused with {json}"))?;
                Ok(false)
            }
            (parsed, _) => Err(format!("parse says {parsed:?} but handle answered {json}")),
        }
    })();
    (Input::Form { path, body }, result)
}

/// A request's JSON form reads back as the same request.
fn request_roundtrip(r: &Request) -> Result<(), String> {
    let text = serde_json::to_string(r).map_err(|e| format!("{r:?} does not serialize: {e}"))?;
    match serde_json::from_str::<Request>(&text) {
        Ok(back) if back == *r => Ok(()),
        other => Err(format!("{r:?} as JSON {text} reads back as {other:?}")),
    }
}

/// A JSON request, valid or mutated. Whatever is accepted must also be
/// accepted, as the same request, in its form-body form.
fn request_json(rng: &mut SmallRng, st: &mut State) -> (Input, Result<bool, String>) {
    let request = gen::request(rng, &st.world);
    let value = serde_json::to_value(&request).expect("a request serializes");
    let (text, valid, repeated) = mutated_json(rng, value);
    let result = (|| {
        let parsed = no_panic("reading a JSON request", || serde_json::from_slice::<Request>(&text))?;
        let r = match parsed {
            Ok(r) => r,
            Err(e) if valid => return Err(format!("the valid request {request:?} was refused: {e}")),
            Err(_) => return Ok(false),
        };
        if valid && r != request {
            return Err(format!("the valid request {request:?} was read as {r:?}"));
        }
        if repeated {
            return Err(format!("a JSON request with a repeated key was accepted as {r:?}"));
        }
        if let Some((path, pairs)) = gen::form_of(rng, &r) {
            let body = gen::encode(rng, &pairs);
            match Request::parse(path, &body) {
                Ok(f) if f == r => {}
                other => {
                    return Err(format!(
                        "accepted as JSON ({r:?}), but its form {path} {} reads as {other:?}",
                        escape(&body)
                    ))
                }
            }
        }
        let answer = no_panic("Settings::apply", || st.settings.apply(&r))?;
        if answer.code() != 200 {
            st.unchanged(&format!("apply refused it with {}", answer.to_json()))?;
            return Ok(false);
        }
        st.accepted(rng, &r)?;
        Ok(true)
    })();
    (Input::RequestJson(text), result)
}

/// `value` as JSON text: a quarter of the time unchanged (valid), else with
/// a key repeated, or mutated as a value and maybe as bytes. Also says
/// whether it is valid and whether a key was repeated.
fn mutated_json(rng: &mut SmallRng, mut value: Value) -> (Vec<u8>, bool, bool) {
    match rng.gen_range(0..8) {
        0 | 1 => (serde_json::to_vec(&value).unwrap(), true, false),
        2 => (mutate::duplicate_key(rng, &value), false, true),
        k => {
            mutate::json_value(rng, &mut value);
            let mut text = serde_json::to_vec(&value).unwrap();
            if k >= 6 {
                mutate::json_text(rng, &mut text);
            }
            (text, false, false)
        }
    }
}

/// A push object, valid or mutated: what is accepted is decided as the
/// oracle decides it.
fn push(rng: &mut SmallRng, st: &mut State) -> (Input, Result<bool, String>) {
    let m = gen::message(rng, &st.world);
    let recipients = gen::recipients(rng, &st.world);
    let value = m.push(rng, &recipients);
    let (text, valid, repeated) = mutated_json(rng, value);
    let in_tables = (1971..2099).contains(&chrono::Datelike::year(&m.at));
    let result = (|| {
        let parsed = no_panic("reading a push", || serde_json::from_slice::<Push>(&text))?;
        let push = match parsed {
            Ok(p) => p,
            Err(e) if valid => return Err(format!("a valid push was refused: {e}")),
            Err(_) => return Ok(false),
        };
        if repeated {
            return Err("a push with a repeated key was accepted".into());
        }
        let ids = push.mentioned_ids();
        let message = match no_panic("Push::message", || push.message(&ids))? {
            Ok(message) => message,
            Err(e) if valid && in_tables => return Err(format!("a valid push was refused: {e}")),
            Err(_) => return Ok(false),
        };
        let mentioned = m.mentioned();
        if valid && Some(message) != m.message(&mentioned) {
            return Err(format!(
                "the push of {:?} was read as {message:?}",
                m.message(&mentioned)
            ));
        }
        let agreed = no_panic("deciding a push", || {
            decisions_agree(&st.settings, &st.oracle, &message, &push.recipients)
        })?
        .map_err(|e| format!("{e} (message {message:?})"))?;
        st.count(agreed);
        if valid && m.policy.is_set() {
            st.reached.hit(Reach::PolicyPush);
        }
        Ok(true)
    })();
    (Input::Push(text), result)
}

/// The settings saved, restored and saved again: the same bytes, and the
/// same decisions as the oracle's.
fn whole_snapshot(rng: &mut SmallRng, st: &mut State) -> (Input, Result<bool, String>) {
    let result = (|| {
        let restored = no_panic("restoring", || serde_json::from_slice::<Settings>(&st.saved))?
            .map_err(|e| format!("a saved state does not restore: {e}"))?;
        let again = save(&restored)?;
        if again != st.saved {
            return Err(format!(
                "a restored state saves to other bytes: {}",
                first_difference(&st.saved, &again)
            ));
        }
        let oracle = st.oracle.clone();
        st.decide(rng, &restored, &oracle)?;
        Ok(true)
    })();
    (Input::Snapshot(st.saved.clone()), result)
}

/// A snapshot: whole; valid of format 1 or 2; near-valid (a documented rule
/// broken); or mutated. The engine restores exactly what the oracle reads as
/// valid, and refuses what it reads as invalid; what is restored decides as
/// the oracle's reading, and saves and restores to the same bytes again.
fn snapshot(rng: &mut SmallRng, st: &mut State) -> (Input, Result<bool, String>) {
    if rng.gen_ratio(1, 6) {
        return whole_snapshot(rng, st);
    }
    let saved: Value = serde_json::from_slice(&st.saved).expect("a saved state is JSON");
    let (text, expect, repeated) = match rng.gen_range(0..5) {
        0 if rng.gen() => (
            serde_json::to_vec(&snapshots::format_1(&saved)).unwrap(),
            Some(Expect::Valid),
            false,
        ),
        0 => {
            let v = snapshots::format_2(rng, &saved, &st.world);
            (serde_json::to_vec(&v).unwrap(), Some(Expect::Valid), false)
        }
        1 | 2 => {
            let (v, rule) = snapshots::near_valid(rng, &saved, &st.world);
            (serde_json::to_vec(&v).unwrap(), Some(Expect::Broken(rule)), false)
        }
        _ => {
            let (text, _, repeated) = mutated_json(rng, saved);
            (text, None, repeated)
        }
    };
    let result = (|| {
        let engine = no_panic("restoring", || serde_json::from_slice::<Settings>(&text))?;
        let reading = read_snapshot(&text);
        let (restored, read) = match (engine, reading, expect) {
            (_, Reading::Skip, _) => return Ok(false),
            (Ok(_), Reading::Invalid(why), _) => return Err(format!("{why}, and yet it was restored")),
            (Err(e), Reading::Valid(_), _) => {
                return Err(format!("the engine refused a snapshot the oracle reads as valid: {e}"))
            }
            (Ok(_), Reading::Valid(_), Some(Expect::Broken(rule))) => {
                return Err(format!(
                    "the oracle read a snapshot with {rule} as valid, and it was restored"
                ))
            }
            (Err(e), Reading::Invalid(_), Some(Expect::Valid)) => {
                return Err(format!("a valid generated snapshot was refused: {e}"))
            }
            (Err(_), Reading::Invalid(_), expect) => {
                if matches!(expect, Some(Expect::Broken(_))) {
                    st.reached.hit(Reach::NearValidRefused);
                }
                return Ok(false);
            }
            (Ok(restored), Reading::Valid(read), _) => (restored, read),
        };
        if repeated {
            return Err("a snapshot with a repeated key was restored".into());
        }
        let bytes = save(&restored)?;
        let again = no_panic("restoring", || serde_json::from_slice::<Settings>(&bytes))?
            .map_err(|e| format!("the save of a restored snapshot does not restore: {e}"))?;
        let third = save(&again)?;
        if third != bytes {
            return Err(format!(
                "restore(save(s)) saves to other bytes than save(s): {}",
                first_difference(&bytes, &third)
            ));
        }
        st.decide(rng, &restored, &read.naive)?;
        st.decide(rng, &again, &read.naive)?;
        match (read.format, read.extended) {
            (1, _) => st.reached.hit(Reach::Format1),
            (_, true) => st.reached.hit(Reach::Format2),
            _ => {}
        }
        Ok(true)
    })();
    (Input::Snapshot(text), result)
}

/// Where two saves part: a little of each from the first byte that differs.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let at = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let from = at.saturating_sub(60);
    let excerpt = |s: &[u8]| escape(&s[from..(at + 60).min(s.len())]);
    format!("at byte {at}, saved ...{}... then ...{}...", excerpt(a), excerpt(b))
}
