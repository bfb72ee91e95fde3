"""The platform's own Python server SDK (PyPI's rc-server-sdk) drives the
engine: its request bodies, built as it builds them for the platform, go
through Settings.handle in place of the HTTP call, and get the platform's
answers."""

import pytest

rongcloud = pytest.importorskip("rongcloud.rongcloud")
from rongcloud.module import Module  # noqa: E402

import dnd_engine  # noqa: E402


@pytest.fixture
def sdk(monkeypatch):
    """The SDK, with every request it would send answered by one Settings;
    the (path, body) pairs it sent are kept in `sent`."""
    settings = dnd_engine.Settings("Asia/Shanghai")
    sent = []

    def post(self, url, data=""):
        sent.append((url, data))
        return settings.handle(url, data)

    monkeypatch.setattr(Module, "_http_post", post)
    rc = rongcloud.RongCloud("key", "secret", "http://127.0.0.1:9")
    return rc, settings, sent


def group_push(recipients, at="2026-11-22T12:00:00+08:00"):
    return {"at": at, "conversationType": 3, "targetId": "g1", "fromUserId": "carol", "recipients": recipients}


def test_the_sdks_conversation_mute_decides(sdk):
    rc, settings, sent = sdk
    notification = rc.get_conversation().get_notification()
    assert notification.set(3, "alice", "g1", 1) == {"code": 200}
    assert sent[-1] == ("/conversation/notification/set.json",
                        "conversationType=3&requestId=alice&targetId=g1&isMuted=1")
    # isMuted=1 is level 5: nothing pushes; the get answers the level.
    assert notification.get(3, "alice", "g1") == {"code": 200, "isMuted": 5}
    decisions = settings.prepare(group_push(["alice", "bob"])).decide_ids().to_dicts()
    assert decisions == [
        {"userId": "alice", "push": False, "by": "user_conversation", "level": 5},
        {"userId": "bob", "push": True, "by": "none", "level": -1},
    ]
    # isMuted=0 clears it.
    assert notification.set(3, "alice", "g1", 0) == {"code": 200}
    assert notification.get(3, "alice", "g1") == {"code": 200, "isMuted": 0}
    assert settings.prepare(group_push(["alice"])).decide_ids()[0]["by"] == "none"


def test_the_sdks_private_chat_mute(sdk):
    rc, settings, _ = sdk
    notification = rc.get_conversation().get_notification()
    # A private conversation is named by the other user.
    assert notification.set(1, "alice", "dave", 1) == {"code": 200}
    private = {"at": 0, "conversationType": 1, "fromUserId": "dave", "recipients": ["alice"]}
    assert settings.prepare(private).decide_ids()[0]["by"] == "user_conversation"
    other = {"at": 0, "conversationType": 1, "fromUserId": "erin", "recipients": ["alice"]}
    assert settings.prepare(other).decide_ids()[0]["push"] is True


def test_what_the_sdk_refuses_never_reaches_the_engine(sdk):
    rc, settings, sent = sdk
    notification = rc.get_conversation().get_notification()
    # The SDK checks conversationType against 1~8 itself: no ultra groups.
    refused = notification.set(10, "alice", "ug", 1)
    assert refused["code"] == 1002 and sent == []


def test_the_engine_answers_the_sdks_unencoded_bodies(sdk):
    rc, settings, sent = sdk
    notification = rc.get_conversation().get_notification()
    # The SDK renders parameters into the body without percent-encoding:
    # a conversation type the platform does not have is refused by name.
    answer = notification.set(2, "alice", "g1", 1)
    assert sent[-1][1] == "conversationType=2&requestId=alice&targetId=g1&isMuted=1"
    assert answer["code"] == 1002 and "conversationType" in answer["errorMessage"]
    # An id with "&" breaks the body the SDK builds: the body names user
    # "a" (and a parameter "b" that the platform ignores), and the engine
    # reads it as the platform would. The SDK's caller must encode ids.
    answer = notification.set(3, "a&b", "g1", 1)
    assert sent[-1][1] == "conversationType=3&requestId=a&b&targetId=g1&isMuted=1"
    assert answer == {"code": 200}
    assert notification.get(3, "a", "g1") == {"code": 200, "isMuted": 5}
    assert settings.prepare(group_push(["a", "a&b"])).decide_ids().push_bits == bytes([0b10])
