"""Type stubs of dnd_engine's extension module (re-exported by dnd_engine)."""

from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

__version__: str

LAYERS: Tuple[str, ...]
"""Layer names by code: LAYERS[code] for the codes of Decisions.layers and
Decisions.records ('sender', 'disable_push', 'urgent', 'vip', 'user_snooze',
'user_period', 'user_subchannel', 'user_conversation',
'user_conversation_type', 'subchannel_default', 'channel_default',
'app_default', 'none', 'repeat', 'muted_sender')."""

Push = Union[str, Mapping[str, Any]]
"""The replay protocol's push object, as JSON text or a dict: at (epoch ms or
RFC 3339), conversationType (1, 3, 6, 10), targetId, busChannel,
fromUserId, mentionedInfo ({"type": 1} or {"type": 2, "userIdList": [...]}),
disablePush, urgent, memberCount, mentionAllAllowed, recipients."""

class DndError(Exception):
    """Every error of dnd_engine."""

    field: Optional[str]
    """The argument or field the error is about ('push.recipients[3]',
    'ids[2]', 'time_zone', 'snapshot'), or None."""
    code: int
    """The C ABI's status code (DND_STATUS_*)."""

class InvalidInput(DndError):
    """An input was refused (JSON, a field's kind or value, an id, a
    snapshot); `field` names it. Nothing was changed."""

class ForeignHandle(DndError):
    """A user handle these settings did not issue (other settings, a
    restore), or one numbered after the version deciding."""

class SettingsFull(DndError):
    """The settings number as many users as they can (2**32)."""

class InternalError(DndError):
    """A bug in dnd_engine, caught at the boundary: please report it."""

class Settings:
    """Every user's and admin's DND settings, shared between threads as
    immutable versions: a prepared message keeps the version it was prepared
    against, and changes never wait for it."""

    def __init__(
        self,
        time_zone: str = "UTC",
        *,
        app_defaults: Optional[Mapping[int, int]] = None,
        private_as_mention: bool = False,
        mention_all_max_members: Optional[int] = None,
    ) -> None:
        """Empty settings for the data center in `time_zone` (an IANA name),
        with the application's default level per conversation type code
        ({3: 1}: group messages push only mentions), private chats counted
        as mentions, and the most members for an @all to count. Raises
        InvalidInput naming 'time_zone' or 'app_defaults[CODE]'."""

    def handle(self, path: str, body: Union[str, bytes]) -> Dict[str, Any]:
        """Answers one of the platform's settings requests (path and form
        body) with the platform's response: {'code': 200}, the value a get
        asks for, or {'code': 1002, 'errorMessage': ...} naming the
        parameter (a refused request changes nothing)."""

    def intern(self, ids: Iterable[str]) -> List[int]:
        """The handle of each id, numbering new users: for decide_handles,
        valid in every version prepared from now on. All ids are checked
        before any user is numbered (InvalidInput naming 'ids[i]')."""

    def ids(self, ids: Iterable[str]) -> "Ids":
        """The ids read once and numbered (as intern), for deciding many
        messages to the same members: Prepared.decide_ids(ids) then reads
        no Python object and converts no string, only the numbers. Raises
        InvalidInput naming 'ids[i]', as intern."""

    def prepare(self, push: Push) -> "Prepared":
        """Prepares a push against the settings as they are now. Raises
        InvalidInput naming the field ('push.recipients[3]')."""

    def save(self) -> str:
        """The settings saved: the snapshot's JSON text (the format of
        `dnd serve`'s snapshot)."""

    @staticmethod
    def restore(snapshot: Union[str, bytes]) -> "Settings":
        """Settings restored from a snapshot; they answer every request and
        decision as the saved ones did, with handles of their own. Raises
        InvalidInput naming 'snapshot'."""

    def __len__(self) -> int:
        """How many users the settings number."""

class Prepared:
    """A message prepared once, decided for many recipients. Thread-safe."""

    @property
    def recipients(self) -> List[str]:
        """The push's recipients."""

    def decide_ids(self, ids: Union[Iterable[str], "Ids", None] = None, *, defer: bool = False) -> "Decisions":
        """Decides `ids` (the push's recipients when None), in order. A user
        the settings do not know has set nothing. With defer=True each
        decision not to push also gets the instant it would push
        (deferUntil). The ids are read with the GIL held and decided with
        it released. Raises InvalidInput naming 'ids[i]' for an id that is
        not str or not UTF-8. `Ids` (from Settings.ids) of other settings
        raise ForeignHandle naming 'handles[i]'."""

    def decide_handles(self, handles: Sequence[int], *, defer: bool = False) -> "Decisions":
        """Decides recipients by handle (from Settings.intern): no string
        crosses the boundary. Raises ForeignHandle naming 'handles[i]'."""

    def explain(self, id: str) -> Dict[str, Any]:
        """The decision for user `id` with the walk down the layers, as
        `dnd explain --json` writes it: userId, push, by, level,
        deferUntil (when deferred), explanation."""

    def explain_handle(self, handle: int) -> Dict[str, Any]:
        """As explain, for a handle."""

class Ids:
    """A member list read and numbered once by Settings.ids: for every
    message to the same members, Prepared.decide_ids(ids) decides by
    handle, with no string converted."""

    def __len__(self) -> int: ...

class Decisions:
    """One batch's decisions, in the order of its recipients: compact, and
    as the replay protocol's dicts on request."""

    def __len__(self) -> int: ...
    @property
    def push_bits(self) -> bytes:
        """One bit per recipient, set when a push goes out: bit i % 8 of
        byte i // 8."""
    @property
    def records(self) -> bytes:
        """Four bytes per recipient, the C ABI's DndDecision: push (0 or 1),
        layer code, level (signed; 0 when none), 0.
        struct.iter_unpack('BBbx', records) reads them."""
    @property
    def layers(self) -> bytes:
        """One layer code per recipient (LAYERS[code] is its name)."""
    @property
    def pushed(self) -> int:
        """How many recipients a push goes out to."""
    @property
    def defer_until(self) -> Optional[List[int]]:
        """Per recipient, the epoch ms of the deferred push (0: none), when
        decided with defer=True; else None."""
    def __getitem__(self, i: int) -> Dict[str, Any]:
        """Recipient i's decision: {'userId', 'push', 'by', 'level'
        (None when no level decided), 'deferUntil' (only when deferred)}."""
    def to_dicts(self) -> List[Dict[str, Any]]:
        """Every decision as a dict, in order."""
