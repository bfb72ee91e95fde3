"""dnd-engine: decides, for every recipient of a chat message, whether a push
notification goes out under the recipients' and the admins' Do-Not-Disturb
settings (the rules of a large IM platform's public server API, with weekly
schedules, snoozes, expiring overrides, VIP senders and urgent messages).

>>> import dnd_engine
>>> settings = dnd_engine.Settings("Asia/Shanghai")
>>> settings.handle("/user/blockPushPeriod/set.json", "userId=alice&startTime=22:00:00&period=540&level=5")
{'code': 200}
>>> prepared = settings.prepare({"at": "2026-11-22T23:30:00+08:00", "conversationType": 3,
...     "targetId": "g", "fromUserId": "carol", "recipients": ["alice", "bob"]})
>>> decisions = prepared.decide_ids()
>>> decisions.to_dicts()[0]["by"], decisions[1]["push"]
('user_period', True)

See docs/embedding.md for the whole API.
"""

from ._native import (
    LAYERS,
    Decisions,
    DndError,
    ForeignHandle,
    Ids,
    InternalError,
    InvalidInput,
    Prepared,
    Settings,
    SettingsFull,
    __version__,
)

__all__ = [
    "LAYERS",
    "Decisions",
    "DndError",
    "ForeignHandle",
    "Ids",
    "InternalError",
    "InvalidInput",
    "Prepared",
    "Settings",
    "SettingsFull",
    "__version__",
]
