"""The Python package against the engine's rules: settings requests, a push
prepared from a dict or JSON, batch decisions compact and as dicts,
explanations, save and restore, and errors that name their field."""

import json
import struct
from urllib.parse import quote

import pytest

import dnd_engine
from dnd_engine import InvalidInput, Settings

NIGHT = "2026-11-22T23:30:00+08:00"


def world():
    s = Settings("Asia/Shanghai", app_defaults={3: 1})
    ok = {"code": 200}
    assert s.handle("/user/blockPushPeriod/set.json", "userId=alice&startTime=22:00:00&period=540&level=5") == ok
    assert s.handle("/ultragroup/notdisturb/set.json", b"groupId=club&busChannel=news&unpushLevel=4") == ok
    assert s.handle("/conversation/notification/set.json",
                    "conversationType=10&requestId=bob&targetId=club&unpushLevel=-1") == ok
    return s


def push(recipients, **fields):
    base = {"at": NIGHT, "conversationType": 10, "targetId": "club", "busChannel": "news",
            "fromUserId": "carol", "mentionedInfo": {"type": 1}, "recipients": recipients}
    base.update(fields)
    return base


def test_the_readme_world_decides_by_each_layer():
    s = world()
    p = s.prepare(push(["alice", "bob", "dave", "carol"]))
    d = p.decide_ids()
    assert len(d) == 4
    assert [x["by"] for x in d.to_dicts()] == ["user_period", "user_conversation", "subchannel_default", "sender"]
    assert [x["push"] for x in d.to_dicts()] == [False, True, True, False]
    assert d[2]["level"] == 4 and d[3]["level"] is None and d[-1]["userId"] == "carol"
    # The compact forms say the same.
    assert d.push_bits == bytes([0b0110])
    assert d.pushed == 2
    assert [dnd_engine.LAYERS[c] for c in d.layers] == ["user_period", "user_conversation", "subchannel_default",
                                                         "sender"]
    assert list(struct.iter_unpack("BBbx", d.records)) == [(0, 5, 5), (1, 7, -1), (1, 9, 4), (0, 0, 0)]
    with pytest.raises(IndexError):
        d[4]


def test_json_text_and_dict_prepare_alike_and_ids_can_be_any_list():
    s = world()
    by_dict = s.prepare(push(["alice"])).decide_ids(["dave", "alice", "nobody"]).to_dicts()
    by_text = s.prepare(json.dumps(push(["alice"]))).decide_ids(("dave", "alice", "nobody")).to_dicts()
    assert by_dict == by_text
    assert by_dict[2] == {"userId": "nobody", "push": True, "by": "subchannel_default", "level": 4}


def test_handles_decide_as_ids_and_other_settings_refuse_them():
    s = world()
    ids = ["alice", "bob", "dave", "carol"]
    handles = s.intern(ids)
    assert len(set(handles)) == 4 and s.intern(["bob"]) == handles[1:2]
    p = s.prepare(push([]))
    assert p.decide_handles(handles).to_dicts() == p.decide_ids(ids).to_dicts()
    other = world()
    with pytest.raises(dnd_engine.ForeignHandle) as e:
        other.prepare(push([])).decide_handles(handles)
    assert e.value.field == "handles[0]"


def test_a_prepared_message_keeps_its_version():
    s = world()
    p = s.prepare(push(["alice"]))
    assert s.handle("/user/blockPushPeriod/delete.json", "userId=alice") == {"code": 200}
    assert p.decide_ids()[0]["by"] == "user_period"
    assert s.prepare(push(["alice"])).decide_ids()[0]["by"] == "subchannel_default"


def test_deferred_pushes_and_explanations():
    s = world()
    p = s.prepare(push(["alice", "dave"]))
    d = p.decide_ids(defer=True)
    # Alice's period ends at 07:00 +08:00 the next morning.
    assert d.defer_until[0] == 1795388400000 and d.defer_until[1] == 0
    assert d[0]["deferUntil"] == 1795388400000 and "deferUntil" not in d[1]
    assert p.decide_ids().defer_until is None
    why = p.explain("alice")
    assert why["by"] == "user_period" and why["deferUntil"] == 1795388400000
    assert "explanation" in why
    assert p.explain_handle(s.intern(["alice"])[0])["explanation"] == why["explanation"]


def test_save_and_restore():
    s = world()
    text = s.save()
    restored = Settings.restore(text)
    assert restored.save() == text and Settings.restore(text.encode()).save() == text
    ids = ["alice", "bob", "dave"]
    assert restored.prepare(push(ids)).decide_ids().to_dicts() == s.prepare(push(ids)).decide_ids().to_dicts()
    assert len(restored) == len(s) == 2
    with pytest.raises(InvalidInput) as e:
        Settings.restore('{"format": 2, "users": 3}')
    assert e.value.field == "snapshot"


@pytest.mark.parametrize("bad, field", [
    ({"at": NIGHT, "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": ["r", ""]},
     "push.recipients[1]"),
    ({"at": NIGHT, "conversationType": 4, "targetId": "g", "fromUserId": "s", "recipients": []},
     "push.conversationType"),
    ({"at": NIGHT, "conversationType": 3, "fromUserId": "s", "recipients": [], "extra": 1}, "push.extra"),
    ('{"at": 0', "push"),
])
def test_a_bad_push_names_its_field(bad, field):
    with pytest.raises(InvalidInput) as e:
        world().prepare(bad)
    assert e.value.field == field and field in str(e.value)
    assert isinstance(e.value, dnd_engine.DndError) and e.value.code == 3


def test_bad_ids_and_config_name_their_field():
    s = world()
    p = s.prepare(push([]))
    with pytest.raises(InvalidInput) as e:
        p.decide_ids(["ok", 5])
    assert e.value.field == "ids[1]"
    with pytest.raises(InvalidInput) as e:
        p.decide_ids(["ok", "\ud800"])
    assert e.value.field == "ids[1]"
    with pytest.raises(InvalidInput) as e:
        s.intern(["ok", ""])
    assert e.value.field == "ids[1]"
    assert len(s) == 2, "a refused batch numbers nobody"
    with pytest.raises(InvalidInput) as e:
        Settings("Mars/Olympus")
    assert e.value.field == "time_zone"
    with pytest.raises(InvalidInput) as e:
        Settings("UTC", app_defaults={4: 1})
    assert e.value.field == "app_defaults[4]"
    with pytest.raises(InvalidInput) as e:
        s.handle("/user/blockPushPeriod/set.json", 5)
    assert e.value.field == "body"


def test_a_refused_request_answers_1002_and_changes_nothing():
    s = world()
    before = s.save()
    answer = s.handle("/user/blockPushPeriod/set.json", "userId=alice&startTime=25:00:00&period=5&level=5")
    assert answer["code"] == 1002 and "startTime" in answer["errorMessage"]
    assert s.save() == before


def test_config_switches():
    s = Settings("UTC", private_as_mention=True, mention_all_max_members=2)
    s.handle("/conversation/type/notification/set.json", "conversationType=1&requestId=r&unpushLevel=2")
    private = {"at": 0, "conversationType": 1, "fromUserId": "s", "recipients": ["r"]}
    assert s.prepare(private).decide_ids()[0]["push"] is True
    s.handle("/conversation/type/notification/set.json", "conversationType=3&requestId=r&unpushLevel=1")
    big = {"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": ["r"],
           "mentionedInfo": {"type": 1}, "memberCount": 3}
    assert s.prepare(big).decide_ids()[0]["push"] is False
    big["memberCount"] = 2
    assert s.prepare(big).decide_ids()[0]["push"] is True


def test_the_stubs_and_docstrings_cover_the_module():
    import ast
    import pathlib

    stub = pathlib.Path(dnd_engine.__file__).with_name("_native.pyi")
    assert (pathlib.Path(dnd_engine.__file__).with_name("py.typed")).exists()
    tree = ast.parse(stub.read_text())
    classes = {n.name: {m.name for m in n.body if isinstance(m, ast.FunctionDef)}
               for n in tree.body if isinstance(n, ast.ClassDef)}
    for name in dnd_engine.__all__:
        item = getattr(dnd_engine, name)
        if isinstance(item, type):
            assert name in classes, f"the stubs lack {name}"
            assert item.__doc__, f"{name} has no docstring"
            public = {m for m in vars(item) if not m.startswith("_") and m not in ("field", "code")}
            assert public <= classes[name], f"{name}: the stubs lack {public - classes[name]}"
            for m in public:
                assert getattr(item, m).__doc__, f"{name}.{m} has no docstring"


def sparse_or_dense(density, users, rng):
    """Settings where `density` of `users` users (ASCII and not) set each
    kind of level, and their ids."""
    s = Settings("Asia/Shanghai", app_defaults={10: 2})
    assert s.handle("/ultragroup/notdisturb/set.json", "groupId=club&busChannel=news&unpushLevel=4") == {"code": 200}
    def ok(path, body):
        assert s.handle(path, body) == {"code": 200}, body

    ids = [f"u{i}" if i % 3 else f"用户{i}ü" for i in range(users)]
    for u in ids:
        if rng.random() < density:
            ok("/user/blockPushPeriod/set.json",
                     f"userId={quote(u)}&startTime={rng.randrange(24):02}:00:00&period={rng.randrange(1, 1439)}"
                     f"&level={rng.choice([1, 5])}")
        if rng.random() < density:
            ok("/conversation/type/notification/set.json",
                     f"conversationType=10&requestId={quote(u)}&unpushLevel={rng.choice([-1, 1, 2, 4, 5])}")
        if rng.random() < density:
            ok("/conversation/notification/set.json",
                     f"conversationType=10&requestId={quote(u)}&targetId=club&unpushLevel={rng.choice([-1, 1, 2, 4, 5])}")
    return s, ids


@pytest.mark.parametrize("density", [0.02, 0.7])
def test_every_way_of_passing_ids_decides_as_explain_walks(density):
    import random

    rng = random.Random(int(density * 100))
    s, ids = sparse_or_dense(density, 1500, rng)
    recipients = ids + ["nobody", "ニンゲン", ids[0]]
    rng.shuffle(recipients)
    # Numbered first: a prepared message knows the users numbered before it.
    interned, handles = s.ids(recipients), s.intern(recipients)
    assert len(interned) == len(recipients)
    p = s.prepare(push(recipients, fromUserId=recipients[5]))
    # The slow path, one recipient at a time down the layers.
    expected = [{k: v for k, v in p.explain(u).items() if k != "explanation"} for u in recipients]
    ways = {
        "list": p.decide_ids(recipients, defer=True),
        "tuple": p.decide_ids(tuple(recipients), defer=True),
        "iterator": p.decide_ids(iter(recipients), defer=True),
        "Ids": p.decide_ids(interned, defer=True),
        "handles": p.decide_handles(handles, defer=True),
        "own recipients": p.decide_ids(defer=True),
    }
    for way, d in ways.items():
        assert d.to_dicts() == expected, way
        assert d.records == ways["list"].records and d.push_bits == ways["list"].push_bits, way
    assert 0 < ways["list"].pushed < len(recipients)


def test_a_bad_id_far_into_a_list_is_named_and_ids_of_other_settings_refused():
    s = world()
    p = s.prepare(push([]))
    for bad, at in ((b"bytes", 700), (None, 64), ("\udcff", 1000)):
        ids = [f"u{i}" for i in range(1200)]
        ids[at] = bad
        with pytest.raises(InvalidInput) as e:
            p.decide_ids(ids)
        assert e.value.field == f"ids[{at}]"
        with pytest.raises(InvalidInput) as e:
            s.ids(ids)
        assert e.value.field == f"ids[{at}]"
    assert len(s) == 2, "a refused list numbers nobody"
    with pytest.raises(dnd_engine.ForeignHandle) as e:
        world().prepare(push([])).decide_ids(s.ids(["alice"]))
    assert e.value.field == "handles[0]"
