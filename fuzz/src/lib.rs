//! A seeded fuzz driver for dnd-engine, on the stable toolchain.
//!
//! The search is cut into episodes. Episode `e` of seed `s` draws everything
//! from its own generator (seeded from `s` and `e`): a world of odd ids, a
//! configuration, a few valid settings, then [`INPUTS_PER_EPISODE`] inputs,
//! each one of
//!
//! - a form body on one of [`dnd_engine::api::PATHS`] or an unknown path,
//!   valid or mutated;
//! - a JSON request ([`dnd_engine::Request`]'s serde form), valid or mutated;
//! - a push object ([`dnd_engine::push::Push`]), valid or mutated;
//! - a snapshot of the episode's settings, whole or mutated.
//!
//! Each goes through parse, apply, decide and save/restore, and the driver
//! checks the invariants in `input.rs`: no panic; a refused input changes
//! nothing; a valid input is accepted as what it is; every decision equals
//! the naive oracle's (`tests/it/naive.rs`, the one oracle of the project);
//! a restored snapshot decides as the oracle reads it and saves to the same
//! bytes again. An episode is reproduced alone with `--episode`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

// Only `reach` is public (a summary's counts are read by its kinds); the
// rest is the driver's own machinery.
pub(crate) mod for_me;
pub(crate) mod gen;
pub(crate) mod input;
pub(crate) mod members;
pub(crate) mod mutate;
#[path = "../../tests/it/naive.rs"]
pub(crate) mod naive;
pub(crate) mod oracle;
pub(crate) mod policy;
pub mod reach;
pub(crate) mod read;
pub(crate) mod snapshots;

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::SeedableRng;

/// How many inputs one episode runs against its world.
pub const INPUTS_PER_EPISODE: u64 = 64;

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// The seed of the whole search.
    pub seed: u64,
    /// Stop after this many inputs (rounded up to whole episodes).
    pub count: Option<u64>,
    /// Stop after this long.
    pub time: Option<Duration>,
    /// Worker threads.
    pub threads: usize,
    /// Run only this episode, printing every input.
    pub episode: Option<u64>,
    /// Print progress every this often (never when `None`).
    pub progress: Option<Duration>,
    /// Go on after a failure (with the next episode), collecting the
    /// failures of each kind, instead of stopping at the first.
    pub keep_going: bool,
    /// Known open defects to step around, so that a long search looks for
    /// new ones: see [`Avoid`].
    pub avoid: Avoid,
}

/// Known open defects that a search can step around.
#[derive(Clone, Copy, Debug, Default)]
pub struct Avoid {
    /// `fffd`: generate no ids with U+FFFD (they are
    /// refused as not UTF-8).
    pub fffd: bool,
    /// `duplicates`: do not fail when a snapshot with a duplicate entry is
    /// restored; its decisions go unchecked.
    pub duplicates: bool,
}

impl Avoid {
    /// Parses a comma-separated list of `fffd` and `duplicates`.
    pub fn parse(list: &str) -> Result<Avoid, String> {
        let mut avoid = Avoid::default();
        for name in list.split(',') {
            match name {
                "fffd" => avoid.fffd = true,
                "duplicates" => avoid.duplicates = true,
                _ => return Err(format!("--avoid: {name:?} is not fffd or duplicates")),
            }
        }
        Ok(avoid)
    }
}

static AVOID: std::sync::OnceLock<Avoid> = std::sync::OnceLock::new();

/// What this search steps around.
pub(crate) fn avoid() -> Avoid {
    AVOID.get().copied().unwrap_or_default()
}

/// A failed check, with what reproduces it.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The seed of the search that met the failure.
    pub seed: u64,
    /// The episode of that seed that failed: `--seed S --episode E` runs
    /// it alone, with the same world and inputs.
    pub episode: u64,
    /// The input's number within the episode (`None` for the world's setup
    /// or the episode's closing checks).
    pub input: Option<u64>,
    /// What was wrong.
    pub what: String,
    /// The input, as the driver fed it.
    pub shown: String,
}

impl Failure {
    /// The command that runs the failing episode alone, printing each input.
    pub fn command(&self) -> String {
        format!(
            "cargo run --release -p dnd-fuzz -- --seed {} --episode {}",
            self.seed, self.episode
        )
    }
}

impl Failure {
    /// The failure's kind: its text without the quoted values and numbers,
    /// cut short, so that one defect met with different ids counts once.
    pub fn kind(&self) -> String {
        let mut kind = String::new();
        let (mut quoted, mut nested) = (false, 0);
        for c in self.what.chars() {
            match c {
                '"' => quoted = !quoted,
                '(' | '{' | '[' if !quoted => nested += 1,
                ')' | '}' | ']' if !quoted => nested -= 1,
                _ if quoted || nested > 0 || c.is_ascii_digit() => {}
                _ => kind.push(c),
            }
            if kind.len() >= 64 {
                break;
            }
        }
        kind
    }
}

/// How a search went.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// With `keep_going`: the first failure of each kind, and how often
    /// that kind was met.
    pub failures: Vec<(Failure, u64)>,
    /// Inputs run, counting a failed episode's up to its failing input.
    pub inputs: u64,
    /// Episodes the workers drew, each with its own world and inputs.
    pub episodes: u64,
    /// Wall-clock time from the start of the search to its summary.
    pub elapsed: Duration,
    /// Inputs the engine took as valid and applied or answered.
    pub accepted: u64,
    /// Inputs the engine turned down with an error (and, as checked,
    /// without changing anything).
    pub refused: u64,
    /// How often the less travelled paths were reached.
    pub reached: reach::Reached,
}

/// The generator of episode `episode` of `seed`.
fn episode_rng(seed: u64, episode: u64) -> SmallRng {
    // splitmix64 of both, so that neighbouring seeds and episodes differ.
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    SmallRng::seed_from_u64(mix(seed ^ mix(episode)))
}

thread_local! {
    /// The message and place of the last panic on this thread.
    static PANIC: RefCell<String> = const { RefCell::new(String::new()) };
    /// Whether this thread is inside [`no_panic`].
    static CATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, turning a panic into an error that says where it was.
pub(crate) fn no_panic<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    panic::catch_unwind(AssertUnwindSafe(f))
        .map_err(|_| format!("{what} panicked: {}", PANIC.with(|p| p.borrow().clone())))
}

/// Records panics for [`no_panic`] instead of printing them.
fn quiet_panics() {
    panic::set_hook(Box::new(|info| {
        let text = match info.location() {
            Some(l) => format!("{info} ({}:{})", l.file(), l.line()),
            None => info.to_string(),
        };
        if !CATCHING.with(|c| c.get()) {
            eprintln!("dnd-fuzz: {text}");
        }
        PANIC.with(|p| *p.borrow_mut() = text);
    }));
}

/// Runs episode `e` of `seed`; a panic of the driver itself is a failure too.
fn run_episode(seed: u64, e: u64, verbose: bool, stats: &mut input::Stats) -> Result<(), Failure> {
    let mut rng = episode_rng(seed, e);
    no_panic("the driver", || input::episode(&mut rng, seed, e, verbose, stats)).unwrap_or_else(|what| {
        Err(Failure {
            seed,
            episode: e,
            input: None,
            what,
            shown: String::new(),
        })
    })
}

/// Runs the search; the first failure ends it.
///
/// With [`Options::keep_going`] the failures are in [`Summary::failures`]
/// instead, and `Err` is never returned.
pub fn run(options: &Options) -> Result<Summary, Failure> {
    quiet_panics();
    AVOID.get_or_init(|| options.avoid);
    let started = Instant::now();
    if let Some(e) = options.episode {
        let mut stats = input::Stats::default();
        run_episode(options.seed, e, true, &mut stats)?;
        return Ok(Summary {
            inputs: INPUTS_PER_EPISODE,
            episodes: 1,
            elapsed: started.elapsed(),
            accepted: stats.accepted,
            refused: stats.refused,
            reached: stats.reached,
            ..Summary::default()
        });
    }
    let kinds: Mutex<Vec<(Failure, u64)>> = Mutex::new(Vec::new());
    let episodes = options.count.map_or(u64::MAX, |c| c.div_ceil(INPUTS_PER_EPISODE));
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let failure: Mutex<Option<Failure>> = Mutex::new(None);
    let totals = Mutex::new(input::Stats::default());
    let finished = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..options.threads.max(1) {
            s.spawn(|| {
                let mut stats = input::Stats::default();
                loop {
                    let e = next.fetch_add(1, Ordering::Relaxed);
                    let late = options.time.is_some_and(|t| started.elapsed() >= t);
                    if e >= episodes || late || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let result = run_episode(options.seed, e, false, &mut stats);
                    let ran = match &result {
                        Ok(()) => INPUTS_PER_EPISODE,
                        Err(f) => f.input.map_or(0, |i| i + 1),
                    };
                    done.fetch_add(ran, Ordering::Relaxed);
                    if let (Err(f), true) = (&result, options.keep_going) {
                        let mut kinds = kinds.lock().unwrap();
                        match kinds.iter_mut().find(|(k, _)| k.kind() == f.kind()) {
                            Some((_, n)) => *n += 1,
                            None => {
                                eprintln!(
                                    "dnd-fuzz: new failure: {}\n  {}\n  reproduce: {}",
                                    f.what,
                                    f.shown,
                                    f.command()
                                );
                                kinds.push((f.clone(), 1));
                            }
                        }
                    } else if let Err(f) = result {
                        stop.store(true, Ordering::Relaxed);
                        failure.lock().unwrap().get_or_insert(f);
                        break;
                    }
                }
                totals.lock().unwrap().add(&stats);
                finished.fetch_add(1, Ordering::Relaxed);
            });
        }
        if let Some(every) = options.progress {
            let threads = options.threads.max(1) as u64;
            let mut last = (Instant::now(), 0u64);
            while finished.load(Ordering::Relaxed) < threads {
                std::thread::sleep(Duration::from_millis(100));
                if last.0.elapsed() >= every {
                    let n = done.load(Ordering::Relaxed);
                    let rate = (n - last.1) as f64 / last.0.elapsed().as_secs_f64();
                    let all = n as f64 / started.elapsed().as_secs_f64();
                    eprintln!(
                        "dnd-fuzz: {n} inputs in {:.0} s: {rate:.0} inputs/s now, {all:.0} on average",
                        started.elapsed().as_secs_f64()
                    );
                    last = (Instant::now(), n);
                }
            }
        }
    });
    if let Some(f) = failure.into_inner().unwrap() {
        return Err(f);
    }
    let stats = totals.into_inner().unwrap();
    let inputs = done.load(Ordering::Relaxed);
    Ok(Summary {
        inputs,
        episodes: next.load(Ordering::Relaxed).min(episodes),
        elapsed: started.elapsed(),
        accepted: stats.accepted,
        refused: stats.refused,
        reached: stats.reached,
        failures: kinds.into_inner().unwrap(),
    })
}
