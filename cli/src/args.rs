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

/// The protocol, shown after the options by `--help`.
const PROTOCOL: &str = r#"Input
  JSON Lines: one JSON object a line, read from the FILEs in order as one
  stream ("-" or no FILE: standard input). Lines are numbered across the
  inputs as if they were one file; an input that does not end with a newline
  ends its last line there. Blank lines (empty, or only whitespace) are skipped
  and answer nothing; a UTF-8 byte-order mark at the start of an input
  is skipped. A line longer than --max-line-bytes (default 64 MiB, counted
  before the newline) answers an error without being read into memory. A key
  may appear only once in an object.

  {"request": PATH, "body": FORM}
      A settings request: PATH is one of the platform's nine paths or an
      extension path below, FORM its application/x-www-form-urlencoded body.
      replay answers the platform's response object, e.g. {"code":200}.
  {"request": "/v4/...", "body": OBJECT}
      A request of the platform's v4 JSON API (/v4/channel/push/set and /get,
      /v4/channel-type/push/set and /get), OBJECT its JSON body, e.g.
      {"channelType": "3", "requestId": "u1", "noDisturbLevel": 5}.
      replay answers the v4 response object, e.g. {"code":0}.
  {"push": {"at": AT, "conversationType": N, "targetId": ID, "busChannel": ID,
            "fromUserId": ID, "mentionedInfo": {"type": 1 or 2, "userIdList": [IDS],
            "userGroupIds": [IDS]}, "disablePush": BOOL, "urgent": BOOL,
            "memberCount": N, "mentionAllAllowed": BOOL, "text": TEXT,
            "hold": BOOL, "messageId": ID, "answer": FORM,
            "recipients": [IDS]}}
      A message. AT is milliseconds since the Unix epoch or RFC 3339 with an
      offset. Every id is checked as the settings requests check it:
      fromUserId, each recipient and each mentioned id 1 to 64 bytes; targetId
      1 to 64 bytes, for group (3) and ultra group (10) messages; busChannel 1
      to 20 ASCII letters and digits, for type 10 only. busChannel,
      mentionedInfo (type 1 @all, 2 a list) and disablePush are optional; for
      private (1) and system (6) messages the recipient's conversation is the
      one with the sender, so targetId is not used and may be left out.
      urgent (default false): an urgent message pushes to every recipient who
      allows urgent messages (/user/urgent/set.json), whatever their settings
      say; the sender and disablePush still come first. Who may send urgent
      messages, and how often, is the calling service's decision.
      memberCount (0 to 4294967295) and mentionAllAllowed (default true):
      an @all counts as no mention when the conversation has more members
      than --mention-all-max-members, or when mentionAllAllowed is false. The
      message is still decided; only the @all is off.
      text (optional): the message's text, scanned once for every user's
      keywords; in a group or ultra-group message a recipient's keyword found
      in it counts as a mention of them (levels 1 and 2 push), as does
      membership of a group in mentionedInfo.userGroupIds (at most 32; kept
      when an @all counts as no mention).
      replay answers {"decisions": [{"userId": ID, "push": BOOL, "by": LAYER,
      "level": N or null}, ...]}, one per recipient in order. LAYER is sender,
      disable_push, muted_sender, urgent, vip, user_snooze, user_period,
      user_subchannel,
      user_conversation, user_conversation_type, subchannel_default,
      channel_default, app_default or none, in the order they are consulted;
      level is the level applied (-1 when nothing was set, null for sender,
      disable_push, muted_sender, urgent and vip). A decision not to push adds
      "deferUntil": MS when the same message would push to that recipient
      within the 7 days (604800000 ms) after its time: the earliest such
      instant. LAYER repeat: a repeated sender (below) passed over the quiet
      time.
      hold (default false): each recipient with a deferUntil is held, and
      its entry adds "held": true; messageId (1 to 64 bytes, optional) names
      the message in digests.
      recipients absent: a group (3) or ultra-group (10) message goes to every
      member joined through the membership paths (below), in member order;
      with hold, the members are held as if listed by id (dnd serve refuses,
      naming push.hold, a held push to more members than max_recipients; a
      cluster, every held push without recipients).
      answer (default "lines"): "push" answers {"push": [IDS that push],
      "recipients": N}; "bits" answers {"recipients": N, "bits": BASE64}, bit i
      (byte i/8, bit i%8, least significant first) set when recipient i pushes.
  {"release": {"at": AT}}
      Releases the held pushes due at or before AT, answering
      {"digests": [DIGEST, ...]}, in order of at, then userId; each digest is
      released once. A held push is due at the earliest instant, not before
      its message's time nor before the previous release's AT, at which the
      same message, decided then with the settings as they are at this
      release, pushes; with none in the 7 days from that bound it is dropped
      (explain says why). One DIGEST per recipient and instant:
      {"userId": ID, "at": MS, "conversations": [{"conversationType": N,
      "targetId": ID, "busChannel": ID (ultra group subchannels only),
      "count": N, "mentions": N, "first": MS, "last": MS,
      "lastFromUserId": ID, "lastMessageId": ID (when given)}, ...],
      "folded": N (only when some were folded)}, conversations latest first.
      At most 1000 pushes per recipient are kept in detail; more are counted
      and the next digest says how many were folded.
  Anything else answers an error naming the line and the field, and the
  replay goes on: {"error": "line N: ..."} in replay, "error: line N: ..." in
  explain.

Extension requests (a TIME is ms since the Unix epoch or RFC 3339 with an
offset, whose '+' must be sent as %2B in a form body)
  /conversation/notification/set.json, /conversation/type/notification/set.json,
  /ultragroup/notdisturb/set.json take an optional until=TIME: the level (0
      included) applies to messages before TIME, the permanent level from
      TIME on. Their gets then add "until" and "thenIsMuted" (or
      "thenUnpushLevel").
  /user/snooze/set.json      userId, until, optional level (1, 2, 4, 5; default
      5): before until, layer user_snooze decides with level.
  /user/snooze/get.json      userId -> {"code":200,"data":{"until":MS,"level":L}}
  /user/snooze/delete.json   userId
  /user/blockPushSchedule/set.json  userId, windows, optional timezone:
      windows is a JSON array of 1 to 32
      {"days":[1..7],"startTime":"HH:MM:SS","period":1-1440,"level":1|2|4|5}
      (ISO weekdays; a window belongs to the day it starts on; no overlaps).
      A schedule replaces the period and a period replaces the schedule.
  /user/blockPushSchedule/get.json     userId -> {"code":200,"data":{"windows":[...]}}
  /user/blockPushSchedule/delete.json  userId
  /user/vip/set.json         userId, vipUserIds, optional scope: vipUserIds is a
      JSON array of 0 to 100 user ids, none twice ([] removes the list).
      scope quiet (the default): a message from a VIP pushes when the walk
      pushes or when the walk without the recipient's quiet time (snooze,
      period, schedule) pushes, reported by the layer that pushed. scope
      all: it pushes whatever the layers say, layer vip.
  /user/vip/get.json         userId -> {"code":200,"data":{"vipUserIds":[...],"scope":"quiet"}}
  /user/urgent/set.json      userId, optional allow (0 or 1; default 0): with 1,
      urgent messages push, layer urgent (checked before the VIP list).
  /user/urgent/get.json      userId -> {"code":200,"data":{"allow":0 or 1}}
  /user/keywords/set.json    userId, keywords: a JSON array of at most 50
      strings, each 1 to 64 characters after NFC with a letter, digit or
      symbol ([] clears). Matched after NFC and full case folding, at word
      boundaries in scripts written with spaces (anywhere in Han, kana,
      Hangul, Thai, Lao, Khmer, Myanmar).
  /user/keywords/get.json    userId -> {"code":200,"data":{"keywords":[...]}}
  /usergroup/set.json        groupId, memberIds: a JSON array of 0 to 10000
      user ids, none twice ([] deletes the group).
  /usergroup/get.json        groupId -> {"code":200,"groupId":G,"memberIds":[...]}
  /usergroup/delete.json     groupId
  /user/mutedSenders/set.json  userId, senderIds (a JSON array of 0 to 1000
      user ids, none twice; [] clears), optional until=TIME: a message from a
      muted sender does not push to the user, layer muted_sender, checked
      right after disablePush (before urgent, VIP and mentions); from until
      on, the mute is over.
  /user/mutedSenders/get.json  userId -> {"code":200,"data":{"senderIds":[...],"until":MS}}

  /user/repeat/set.json      userId, optional allow (0 or 1; default 0), optional
      windowMinutes (1 to 60; default 15); a set replaces both. With allow 1,
      a message from a sender who has a push to the user still held, sent at
      most windowMinutes before it, passes over the user's quiet time
      (snooze, period, schedule) as a VIP with scope quiet does, layer
      repeat; never a level the user set on the conversation.
  /user/repeat/get.json      userId -> {"code":200,"data":{"allow":0,"windowMinutes":15}}

  Members (the platform's paths): whom a push without recipients goes to.
  /ultragroup/join.json, /ultragroup/quit.json  groupId, userId (one user)
  /ultragroup/member/exist.json  groupId, userId -> {"code":200,"status":true|false}
  /group/join.json, /group/quit.json  userId (repeated, 1 to 1000), groupId;
      join also groupName (1 to 64 characters, checked, not kept)
  /group/user/query.json     groupId -> {"code":200,"users":[{"id":ID},...]}, in
      member order: by when the settings first saw each user

Paths (replay takes the settings paths; dnd serve answers every one)
  The platform's form API (POST, form body):
      /user/blockPushPeriod/set.json, /user/blockPushPeriod/get.json,
      /user/blockPushPeriod/delete.json, /conversation/notification/set.json,
      /conversation/notification/get.json,
      /conversation/type/notification/set.json,
      /conversation/type/notification/get.json,
      /ultragroup/notdisturb/set.json, /ultragroup/notdisturb/get.json
  The extensions (POST, form body; above):
      /user/snooze/set.json, /user/snooze/get.json, /user/snooze/delete.json,
      /user/blockPushSchedule/set.json, /user/blockPushSchedule/get.json,
      /user/blockPushSchedule/delete.json, /user/vip/set.json,
      /user/vip/get.json, /user/urgent/set.json, /user/urgent/get.json,
      /user/keywords/set.json, /user/keywords/get.json,
      /user/mutedSenders/set.json, /user/mutedSenders/get.json,
      /usergroup/set.json, /usergroup/get.json, /usergroup/delete.json,
      /user/repeat/set.json, /user/repeat/get.json
  The platform's membership paths (POST, form body; above): /ultragroup/join.json,
      /ultragroup/quit.json, /ultragroup/member/exist.json, /group/join.json,
      /group/quit.json, /group/user/query.json
  The platform's v4 API (POST, JSON body):
      /v4/channel/push/set, /v4/channel/push/get,
      /v4/channel-type/push/set, /v4/channel-type/push/get
  dnd serve only:
      POST /push/decide.json[?explain=true]  a push object (above, the
          replay's "push") -> {"decisions": [...]}, as replay answers it; a
          push with "hold": true is held durably before the answer, and the
          service's clock releases each digest when it is due
      POST /push/released.json  after=CURSOR (0), limit=1-1000 (100),
          wait=0-30 seconds (0) -> {"code": 200, "cursor": C, "digests":
          [{"cursor": N, "id": ID, DIGEST's fields...}]}: the app's released
          digests after CURSOR, in order, waiting up to wait seconds for one;
          pass C as the next after (resumes across restarts of either side);
          id is stable ({at}-{userId}); kept release_keep_secs
      GET /health, GET /ready, GET /metrics  unsigned; see docs/service.md

Output
  replay writes one JSON line for each input line that is not blank, in
  order, flushed after each. explain writes each request and its response,
  and for each message each recipient's walk down the layers in words, one
  recipient at a time; explain --json writes the response to a request as
  replay does and, for a message, one JSON object per recipient: userId, at,
  push, by, level, steps (what each layer saw) and, when deferred,
  deferUntil and deferral (and "held": true when held), every local time as RFC 9557 writes it
  (2026-11-23T20:30:00+08:00[Asia/Shanghai]); explain --summary writes a
  line for each request (its path and response) and one line for each
  decision: the message's time (RFC 9557), sender -> recipient, push or no
  push, the layer and level, and when deferred, the instant it would push.
  For a release line, explain writes what was re-timed or dropped and
  why, then each digest; explain --json writes {"digests": [...],
  "notes": [...]}. A closed output (dnd ... | head) ends the command
  quietly.

Exit status
  0 every line was understood; 1 some line answered an error, or reading the
  input or writing the output failed (said on standard error); 2 bad
  arguments, or an input that cannot be opened."#;

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
