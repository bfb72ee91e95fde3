"""Deciding a fanout from Python, against the Rust call and a pure-Python
walk of the same rules, in one run (docs/performance.md).

    scripts/python-test.sh   # makes target/venv (maturin, pytest)
    python3 -m venv target/venv-bench
    CARGO_TARGET_DIR=target/python target/venv/bin/maturin build --release --locked \
        -m python/Cargo.toml -i target/venv-bench/bin/python -o target/python/release
    target/venv-bench/bin/pip install --force-reinstall target/python/release/*.whl
    target/venv-bench/bin/python python/benches/fanout.py [USERS]   # default 1,000,000

The world (as benches/fanout.rs and ffi/benches/abi.rs draw theirs): 20% of
users with a daily period (one in ten in New York, the rest in the data
center's zone, Asia/Shanghai), 30% with a level for ultra groups, 5% on the
ultra group, 1% on its subchannel, admin defaults 1 (the group) and 4 (the
subchannel). The message: in the subchannel at 23:30 Shanghai time, with an
@all. Recipients: every user, shuffled.

Timed by this thread's time on a CPU, the least of 5 runs each:
- rust: Prepared.decide_ids() with no argument decides the push's own
  recipients, which are Rust strings already: the Rust call, plus one
  Python call;
- python ids: Prepared.decide_ids(list_of_str): the same, with every id
  converted from a Python str;
- python handles: Prepared.decide_handles(list_of_int);
- python Ids: Prepared.decide_ids(settings.ids(list_of_str)), the list
  read and numbered once (timed apart: settings.ids) and decided for each
  message by handle, as a service does that pushes many messages to the
  same members;
- the same, with the recipients in the order their str objects were made;
- pure python: a dictionary walk of the same rules, written for speed as a
  Python developer would (the zones' wall clocks once per message, a dict
  per layer), checked to agree with the engine on every recipient first.
"""

import datetime
import json
import random
import sys
import time
import zoneinfo

import dnd_engine

AT = datetime.datetime(2026, 11, 22, 23, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
ZONES = ["Asia/Shanghai", "America/New_York"]
# Whether a level pushes a message with an @all that does not name the user.
PUSHES = {-1: True, 1: True, 2: False, 4: True, 5: False}


def world(users, rng):
    settings = dnd_engine.Settings("Asia/Shanghai", app_defaults={3: 1})
    handle = settings.handle
    assert handle("/ultragroup/notdisturb/set.json", "groupId=ug&unpushLevel=1") == {"code": 200}
    assert handle("/ultragroup/notdisturb/set.json", "groupId=ug&busChannel=news&unpushLevel=4") == {"code": 200}
    periods, types, convs, subs = {}, {}, {}, {}
    levels = [-1, 1, 2, 4, 5]
    for i in range(users):
        u = f"u{i}"
        if rng.random() < 0.2:
            zone = 1 if rng.random() < 0.1 else 0
            start, minutes, level = rng.randrange(24) * 3600, rng.randrange(1, 1439), rng.choice([1, 5])
            tz = "&timezone=America%2FNew_York" if zone else ""
            body = f"userId={u}&startTime={start // 3600:02}:00:00&period={minutes}&level={level}{tz}"
            assert handle("/user/blockPushPeriod/set.json", body) == {"code": 200}
            periods[u] = (start, minutes * 60, level, zone)
        if rng.random() < 0.3:
            level = rng.choice(levels)
            handle("/conversation/type/notification/set.json", f"conversationType=10&requestId={u}&unpushLevel={level}")
            types[u] = level
        if rng.random() < 0.05:
            level = rng.choice(levels)
            handle("/conversation/notification/set.json",
                   f"conversationType=10&requestId={u}&targetId=ug&unpushLevel={level}")
            convs[u] = level
        if rng.random() < 0.01:
            level = rng.choice(levels)
            handle("/conversation/notification/set.json",
                   f"conversationType=10&requestId={u}&targetId=ug&busChannel=news&unpushLevel={level}")
            subs[u] = level
    return settings, (periods, types, convs, subs)


def walk(ids, sender, tables):
    """The rules read straight down, for this message: the sender; the period
    while the message is in its window; the subchannel, conversation and
    type levels; the subchannel default (4)."""
    periods, types, convs, subs = tables
    walls = []
    for name in ZONES:
        local = AT.astimezone(zoneinfo.ZoneInfo(name))
        walls.append(local.hour * 3600 + local.minute * 60 + local.second)
    out = []
    append = out.append
    for uid in ids:
        if uid == sender:
            append(False)
            continue
        level = None
        p = periods.get(uid)
        if p is not None:
            start, length, plevel, zone = p
            if (walls[zone] - start) % 86400 < length:
                level = plevel
        if level is None:
            level = subs.get(uid)
        if level is None:
            level = convs.get(uid)
        if level is None:
            level = types.get(uid)
        if level is None:
            level = 4
        append(PUSHES[level])
    return out


def best(f, runs=5):
    """The least time on a CPU of `runs` calls of f: on a machine shared with
    other work, the wall clock measures the others."""
    times = []
    for _ in range(runs):
        t = time.thread_time()
        f()
        times.append(time.thread_time() - t)
    return min(times)


def main():
    users = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = random.Random(12)
    t = time.perf_counter()
    settings, tables = world(users, rng)
    ids = [f"u{i}" for i in range(users)]
    rng.shuffle(ids)
    push = {"at": AT.isoformat(), "conversationType": 10, "targetId": "ug", "busChannel": "news",
            "fromUserId": "u1", "mentionedInfo": {"type": 1}, "recipients": ids}
    handles = settings.intern(ids)
    prepared = settings.prepare(json.dumps(push))
    print(f"world of {users} users built in {time.perf_counter() - t:.1f} s")

    engine = prepared.decide_ids(ids)
    expected = walk(ids, "u1", tables)
    bits = engine.push_bits
    got = [bool(bits[i >> 3] >> (i & 7) & 1) for i in range(users)]
    assert got == expected, "the engine and the Python walk disagree"
    interned = settings.ids(ids)
    assert prepared.decide_ids().push_bits == bits == prepared.decide_handles(handles).push_bits
    assert prepared.decide_ids(interned).records == engine.records
    print(f"agreement on all {users} recipients ({engine.pushed} pushed)")

    rust = best(lambda: prepared.decide_ids())
    by_id = best(lambda: prepared.decide_ids(ids))
    by_handle = best(lambda: prepared.decide_handles(handles))
    by_ids_object = best(lambda: prepared.decide_ids(interned))
    reading = best(lambda: settings.ids(ids))
    pure = best(lambda: walk(ids, "u1", tables), runs=3)
    dicts = best(lambda: prepared.decide_ids(ids).to_dicts(), runs=2)
    # The same recipients in the order their str objects were made (so
    # read in the order they lie in memory), as a service that builds its
    # member list and decides it at once has them.
    ordered = [f"u{i}" for i in range(users)]
    push["recipients"] = ordered
    in_order = settings.prepare(json.dumps(push))
    rust_ordered = best(lambda: in_order.decide_ids())
    by_id_ordered = best(lambda: in_order.decide_ids(ordered))
    ns = 1e9 / users
    print(f"rust (the push's own recipients)  {rust * 1e3:8.1f} ms  {rust * ns:6.1f} ns/recipient")
    print(f"python ids (list of str)          {by_id * 1e3:8.1f} ms  {by_id * ns:6.1f} ns   {by_id / rust:5.2f}x rust")
    print(f"python handles (list of int)      {by_handle * 1e3:8.1f} ms  {by_handle * ns:6.1f} ns   "
          f"{by_handle / rust:5.2f}x rust")
    print(f"python Ids (read once: {reading * 1e3:.1f} ms) {by_ids_object * 1e3:8.1f} ms  "
          f"{by_ids_object * ns:6.1f} ns   {by_ids_object / rust:5.2f}x rust")
    print(f"python ids, then .to_dicts()      {dicts * 1e3:8.1f} ms  {dicts * ns:6.1f} ns")
    print(f"in order: rust                    {rust_ordered * 1e3:8.1f} ms  {rust_ordered * ns:6.1f} ns/recipient")
    print(f"in order: python ids              {by_id_ordered * 1e3:8.1f} ms  {by_id_ordered * ns:6.1f} ns   "
          f"{by_id_ordered / rust_ordered:5.2f}x rust")
    print(f"pure-Python dictionary walk       {pure * 1e3:8.1f} ms  {pure * ns:6.1f} ns   "
          f"{pure / by_id:5.1f}x python ids, {pure / by_ids_object:5.1f}x python Ids, "
          f"{pure / by_handle:5.1f}x python handles")
    pure_ordered = best(lambda: walk(ordered, "u1", tables), runs=3)
    print(f"in order: pure-Python walk        {pure_ordered * 1e3:8.1f} ms  {pure_ordered * ns:6.1f} ns   "
          f"{pure_ordered / by_id_ordered:5.1f}x python ids")


if __name__ == "__main__":
    main()
