//! The command line: subcommands and their options, parsed by clap; the
//! protocol's documentation, shown by `dnd --help`.

use std::path::PathBuf;

use chrono_tz::Tz;
use clap::{Args, Parser, Subcommand};
use dnd_engine::{parse_zone, Config, ConversationType, Level};

use dnd_engine::Excerpt;

/// The longest input line read by default: 64 MiB, room for a message to
/// several million recipients.
pub const DEFAULT_MAX_LINE_BYTES: u64 = 64 << 20;

mod protocol;
use protocol::PROTOCOL;

/// The `dnd` command line.
#[derive(Debug, Parser)]
#[command(
    name = "dnd",
    version,
    about = "Replay DND settings requests and messages, and explain push decisions.",
    after_help = PROTOCOL,
    subcommand_required = true,
    arg_required_else_help = false
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// One JSON line out for each JSON line in: the response to a request, the
    /// decisions for a message.
    #[command(after_help = PROTOCOL)]
    Replay(ReplayArgs),
    /// The same input; for each message, each recipient's walk down the
    /// layers in words (with --json, one JSON object per recipient).
    #[command(after_help = PROTOCOL)]
    Explain(ExplainArgs),
    /// The same input; one user's week as an SVG picture on standard output:
    /// their quiet time (period, schedule windows with their levels,
    /// snooze), their overrides and when they expire, the admins' and the
    /// app's defaults that reach them, and each message to them as a mark,
    /// pushed or not, with an arrow to its deferUntil; times in the user's
    /// zone (their schedule's, else their period's, else --time-zone).
    Timeline(TimelineArgs),
    /// The settings service: the platform's signed HTTP API (the form and the
    /// v4 JSON generations), POST /push/decide.json (a push with "hold":
    /// true held, durably, and released as digests when due) and POST
    /// /push/released.json (the released digests by cursor), durable in DIR
    /// (a snapshot and a synced log). App keys and secrets come from the config
    /// file (`[[apps]]`) or DND_APP_KEY and DND_APP_SECRET, never from the
    /// command line. Stops on SIGTERM or SIGINT. With --tls-cert and
    /// --tls-key it serves HTTPS (SIGHUP reads them again); plain HTTP is
    /// safe only on loopback or behind a TLS-terminating proxy in a private
    /// network, since the signature covers neither path nor body. One
    /// server per DIR (a lock). See docs/service.md. With
    /// --cluster, the same HTTP front is an API node of a sharded cluster
    /// on NATS JetStream instead (no --data; see docs/scaling.md).
    Serve(ServeArgs),
    /// The settings sharded on NATS JetStream: a shard process, a whole
    /// local cluster on loopback, or a change of the number of shards while
    /// the cluster serves. See docs/scaling.md.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// A stopped service's data directory: what each app's store keeps, and
    /// changing a store's time zone.
    #[command(subcommand)]
    Store(StoreCommand),
    /// A health check for containers and service managers: GET a plain
    /// http:// URL; exit status 0 for a 2xx answer, 1 otherwise (said on
    /// standard error), within a few seconds.
    Probe(ProbeArgs),
}

/// `dnd probe`'s arguments.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The URL to get.
    #[arg(value_name = "URL", default_value = "http://127.0.0.1:8080/ready")]
    pub url: String,
}

/// `dnd store`'s subcommands.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// One line per app's store: the engine settings it keeps (time zone,
    /// app defaults, mention policy) and its number of users.
    Show(StoreShowArgs),
    /// Moves a store to another time zone: the same settings, read in ZONE
    /// from now on (a new snapshot; the log is emptied). Stop the service
    /// first; then start it with --time-zone ZONE or without one.
    SetZone(SetZoneArgs),
}

/// `dnd store show`'s arguments.
#[derive(Debug, Args)]
pub struct StoreShowArgs {
    /// The service's data directory (as given to serve --data).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
}

/// `dnd store set-zone`'s arguments.
#[derive(Debug, Args)]
pub struct SetZoneArgs {
    /// The service's data directory (as given to serve --data).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// The app whose store to move; may be left out when DIR holds one app's.
    #[arg(long, value_name = "KEY")]
    pub app: Option<String>,
    /// The IANA time zone, e.g. Asia/Shanghai.
    #[arg(value_name = "ZONE", value_parser = time_zone)]
    pub zone: Tz,
}

/// `dnd cluster`'s subcommands.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// One shard: restores its newest snapshot, applies its part of the log
    /// in order, answers the API nodes' gets and decides. Stops (with a
    /// snapshot) on SIGTERM or SIGINT.
    Shard(ShardArgs),
    /// A local cluster on loopback: a nats-server 2.11+ ($NATS_SERVER, or
    /// nats-server on PATH), --shards shard processes, and an HTTP API
    /// node on --listen, until SIGTERM or Ctrl-C. App keys as for serve.
    Local(LocalArgs),
    /// Moves every app to --to shards while the cluster serves, with no
    /// replay from the stream's start: builds the new layout's snapshots
    /// from the old shards' (split by partition), waits for the new shard
    /// processes you start to catch up, switches the API nodes' routing,
    /// then waits for you to stop the old shard processes and deletes
    /// their snapshots. Writes and reads go on throughout. Killed, run it
    /// again with the same --to (it resumes) or with --abort. See
    /// docs/scaling.md, "Resharding".
    Reshard(ReshardArgs),
}

/// `dnd cluster reshard`'s arguments.
#[derive(Debug, Args)]
pub struct ReshardArgs {
    /// The NATS servers, URL[,URL...].
    #[arg(long, value_name = "URLS")]
    pub nats: String,
    /// The new number of shards (1 to 256).
    #[arg(long, value_name = "M", required_unless_present = "abort", conflicts_with = "abort")]
    pub to: Option<u16>,
    /// The number of shards the cluster runs now; needed only the first
    /// time (after that the layout record in NATS says it).
    #[arg(long, value_name = "N")]
    pub shards: Option<u16>,
    /// Abandons the reshard under way: the API nodes keep the old layout,
    /// the new layout's snapshots are deleted (stop its shard processes).
    #[arg(long)]
    pub abort: bool,
    /// How long to wait for the new shards to catch up, and for the old
    /// ones to be stopped, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub wait: u64,
    /// The service's TOML file as the shards are given it (the set-up of a
    /// shard that never saved a snapshot).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `dnd cluster shard`'s arguments.
#[derive(Debug, Args)]
pub struct ShardArgs {
    /// The NATS servers, URL[,URL...].
    #[arg(long, value_name = "URLS")]
    pub nats: String,
    /// The number of shards of the layout (1 to 256).
    #[arg(long, value_name = "N")]
    pub shards: u16,
    /// This shard's index, 0 to N-1.
    #[arg(long, value_name = "I")]
    pub index: u16,
    /// Which replica of the shard this process is: R processes of the same
    /// --index, replicas 0 to R-1, each apply the shard's requests and share
    /// its reads, so that one may stop without a read failing.
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub replica: u16,
    /// A snapshot after this many applied requests.
    #[arg(long, value_name = "K", default_value_t = 20_000)]
    pub snapshot_every: u64,
    /// While it holds pushes, the shard evaluates its held items every MS
    /// milliseconds (its clock), appending the digests due to the app's
    /// released stream; 0: never by itself.
    #[arg(long, value_name = "MS", default_value_t = 1_000)]
    pub release_every: u64,
    /// The service's TOML file: its time_zone and app_defaults (the same on
    /// every shard).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `dnd cluster local`'s arguments.
#[derive(Debug, Args)]
pub struct LocalArgs {
    /// The number of shards.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub shards: u16,
    /// The HTTP API node's address.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Where the nats-server stores the stream and the snapshots (a
    /// temporary directory if not given; give one to restart on it).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// A TOML file as for serve.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `dnd serve`'s arguments.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// The store's directory (created if needed).
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "cluster",
        conflicts_with = "cluster"
    )]
    pub data: Option<PathBuf>,
    /// Serve as an API node of the cluster on these NATS servers,
    /// URL[,URL...]: changes are appended to its JetStream stream, gets and
    /// decides answered by the shards.
    #[arg(long, value_name = "URLS")]
    pub cluster: Option<String>,
    /// With --cluster: the number of shards (as every shard was started with).
    #[arg(long, value_name = "N", default_value_t = 3, requires = "cluster")]
    pub shards: u16,
    /// With --cluster: the stream's copies, if this node creates it.
    #[arg(long, value_name = "R", default_value_t = 1, requires = "cluster")]
    pub replicas: usize,
    /// A TOML file: `[[apps]]` key and secret, limits, time_zone, app_defaults.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Serve HTTPS with this certificate chain (PEM), read again on SIGHUP;
    /// with --tls-key. Overrides the config file's tls_cert.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert. Overrides the config file's tls_key.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The data center's IANA time zone, in which users' periods are read
    /// (over DND_TIME_ZONE, over time_zone in the file). A store keeps the
    /// zone it was made with: a different one refuses to start, and `dnd
    /// store set-zone` moves a store. Not given anywhere: each store keeps
    /// its own, a new one is made in UTC, and the log says so.
    #[arg(long, value_name = "ZONE", value_parser = time_zone)]
    pub time_zone: Option<Tz>,
}

/// `dnd timeline`'s arguments.
#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// The user whose week is drawn.
    #[arg(long, value_name = "ID")]
    pub user: String,
    /// The picture's start (RFC 3339 or epoch ms); by default the Monday
    /// 00:00, in the user's zone, of the week of their first message.
    #[arg(long, value_name = "T")]
    pub from: Option<String>,
    /// The picture's end; by default a week after its start.
    #[arg(long, value_name = "T")]
    pub to: Option<String>,
    /// The engine and the input.
    #[command(flatten)]
    pub common: Common,
}

/// `dnd replay`'s arguments.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The engine and the input.
    #[command(flatten)]
    pub common: Common,
}

/// `dnd explain`'s arguments.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// One JSON object per recipient (the walk as structured data) instead of words.
    #[arg(long, conflicts_with = "summary")]
    pub json: bool,
    /// One line per decision (when, from whom, to whom, push or not, the
    /// layer and level, and when a deferred push would go) instead of the walk.
    #[arg(long)]
    pub summary: bool,
    /// The engine and the input.
    #[command(flatten)]
    pub common: Common,
}

/// What every subcommand that reads lines takes: the engine's configuration,
/// the longest line, the inputs.
#[derive(Debug, Args)]
pub struct Common {
    /// The data center's IANA time zone, in which periods without a zone of
    /// their own are read. Not given: UTC, said on standard error.
    #[arg(long, value_name = "ZONE", value_parser = time_zone)]
    pub time_zone: Option<Tz>,

    /// The application's default level for a conversation type, for example
    /// 3=1 (may repeat; a later one for the same type wins).
    #[arg(long = "app-default", value_name = "TYPE=LEVEL", value_parser = app_default)]
    pub app_defaults: Vec<AppDefault>,

    /// Private (type 1) messages count as mentioning their recipient, so
    /// that levels 1 and 2 push in private chats.
    #[arg(long)]
    pub private_as_mention: bool,

    /// The most members a conversation may have for an @all to count
    /// (memberCount on a push); with more, an @all counts as no mention.
    #[arg(long, value_name = "N", value_parser = members)]
    pub mention_all_max_members: Option<u32>,

    /// The longest input line, in bytes; a longer line answers an error.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_LINE_BYTES, value_parser = line_bytes)]
    pub max_line_bytes: u64,

    /// The inputs, read in order as one stream; "-" is standard input, and
    /// so is no FILE at all.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

impl Common {
    /// The engine's configuration.
    pub fn config(&self) -> Config {
        let mut config = Config::new(self.time_zone.unwrap_or(chrono_tz::UTC));
        for d in &self.app_defaults {
            config.app_defaults.set(d.conversation_type, d.level);
        }
        config.private_as_mention = self.private_as_mention;
        config.mention_all_max_members = self.mention_all_max_members;
        config
    }
}

/// One `--app-default TYPE=LEVEL`.
#[derive(Clone, Copy, Debug)]
pub struct AppDefault {
    conversation_type: ConversationType,
    level: Option<Level>,
}

fn time_zone(s: &str) -> Result<Tz, String> {
    parse_zone(s).map_err(|_| format!("{} is not an IANA time zone name", Excerpt::new(s)))
}

fn line_bytes(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "{} is not a number of bytes (a whole number, 1 or more)",
            Excerpt::new(s)
        )),
    }
}

fn members(s: &str) -> Result<u32, String> {
    s.parse::<u32>().map_err(|_| {
        format!(
            "{} is not a number of members (a whole number from 0 to {})",
            Excerpt::new(s),
            u32::MAX
        )
    })
}

fn app_default(spec: &str) -> Result<AppDefault, String> {
    let bad = |why: String| format!("{}: {why}; expected TYPE=LEVEL, for example 3=1", Excerpt::new(spec));
    let (t, l) = spec.split_once('=').ok_or_else(|| bad("no '='".into()))?;
    let number = |s: &str| {
        s.parse::<i64>()
            .map_err(|_| bad(format!("{} is not a number", Excerpt::new(s))))
    };
    let conversation_type = ConversationType::from_code(number(t)?).map_err(|e| bad(e.to_string()))?;
    let level = Level::from_code(number(l)?).map_err(|e| bad(e.to_string()))?;
    Ok(AppDefault {
        conversation_type,
        level,
    })
}
