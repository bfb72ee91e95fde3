//! The replay protocol as `dnd --help` shows it after the options.

/// The protocol, shown after the options by `--help`.
pub(super) const PROTOCOL: &str = r#"Input
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
