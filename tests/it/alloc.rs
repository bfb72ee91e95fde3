//! Deciding a fanout allocates nothing; and what a user costs in memory.
//!
//! A counting global allocator is the one piece of `unsafe` in the project:
//! `GlobalAlloc` cannot be implemented without it. It only counts and hands
//! every call to the system allocator. The library itself forbids `unsafe`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use chrono_tz::Asia;
use dnd_engine::{
    Config, Conversation, ConversationKey, ConversationType, DndPeriod, DndWindow, Layer, Level, Mentions, Message,
    PeriodLevel, Settings, TargetId, TimeOfDay, UserId, VipList, VipScope,
};

use crate::support::at;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    /// Bytes allocated and not yet freed on this thread (what it freed of
    /// other threads' allocations counts against it).
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn live(delta: i64) {
    LIVE.with(|l| l.set(l.get() + delta));
}

// SAFETY: every method forwards to `System` with the caller's arguments; the
// count is a thread-local `Cell` that needs no allocation.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        live(layout.size() as i64);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        live(-(layout.size() as i64));
        System.dealloc(ptr, layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        live(layout.size() as i64);
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        live(new_size as i64 - layout.size() as i64);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made on this thread while `f` runs.
fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

fn period(start: u32, minutes: i64) -> DndPeriod {
    DndPeriod {
        window: DndWindow::new(TimeOfDay::from_seconds(start).unwrap(), minutes).unwrap(),
        level: PeriodLevel::Nothing,
        zone: None,
    }
}

#[test]
fn deciding_a_fanout_of_100_000_allocates_nothing() {
    const N: usize = 100_000;
    let mut s = Settings::new(Config::new(Asia::Shanghai));
    let group = TargetId::new("club").unwrap();
    let conversation = ConversationKey::new(ConversationType::UltraGroup, group.clone(), None).unwrap();
    let ids: Vec<String> = (0..N).map(|i| format!("user{i}")).collect();
    let mut handles = Vec::with_capacity(N);
    for (i, id) in ids.iter().enumerate() {
        let user = UserId::new(id).unwrap();
        handles.push(s.intern_user(&user).unwrap());
        if i % 5 == 0 {
            s.set_period(&user, Some(period((i as u32 * 7) % 86_400, 600))).unwrap();
        }
        if i % 3 == 0 {
            s.set_type_level(&user, ConversationType::UltraGroup, Some(Level::Mentions))
                .unwrap();
        }
        if i % 20 == 0 {
            s.set_conversation_level(&user, &conversation, Some(Level::MentionsOfMe))
                .unwrap();
        }
    }
    s.set_ultra_group_default(&group, None, Some(Level::MentionsOfAll));
    let mentioned = ["user7", "user70", "user700", "nobody"];
    let msg = Message::new(
        Conversation::UltraGroup {
            group_id: "club",
            bus_channel: None,
        },
        "user1",
        at("2026-11-22T23:30:00+08:00"),
    )
    .with_mentions(Mentions::Users(&mentioned));
    // Preparing allocates nothing, nor does the first decision (which
    // resolves the sender and the mentioned users) nor converting zones.
    let mut prepared = None;
    assert_eq!(allocations_during(|| prepared = Some(s.prepare(&msg))), 0, "prepare");
    let prepared = prepared.unwrap();
    let mut out = Vec::with_capacity(N);
    let mut bits = Vec::with_capacity(N / 64 + 1);
    let mut pushes = 0;
    let allocations = allocations_during(|| {
        prepared.decide_into(&handles, &mut out).unwrap();
        pushes += out.iter().filter(|d| d.push()).count();
        prepared.push_bits_into(&handles, &mut bits).unwrap();
        pushes += bits.iter().map(|b| b.count_ones() as usize).sum::<usize>();
        prepared.decide_ids_into(&ids, &mut out);
        pushes += out.iter().filter(|d| d.push()).count();
        pushes += prepared.decisions(&handles).unwrap().filter(|d| d.push()).count();
        pushes += ids.iter().filter(|id| prepared.decide_id(id).push()).count();
    });
    assert_eq!(allocations, 0);
    assert_eq!(out.len(), N);
    // The count shows the work was done: every path found the same pushes.
    assert!(pushes > 0 && pushes % 5 == 0, "{pushes}");
}

/// Preparing a message allocates nothing, in every conversation type, with
/// many zones in use and many users mentioned; nor does deciding its
/// recipients one by one.
#[test]
fn preparing_a_message_allocates_nothing() {
    let mut s = Settings::new(Config::new(Asia::Shanghai));
    let mut handles = Vec::new();
    for (i, zone) in chrono_tz::TZ_VARIANTS.iter().take(400).enumerate() {
        let user = UserId::new(&format!("user{i}")).unwrap();
        handles.push(s.intern_user(&user).unwrap());
        let mut p = period((i as u32 * 97) % 86_400, 600);
        p.zone = Some(*zone);
        s.set_period(&user, Some(p)).unwrap();
    }
    let mentioned: Vec<String> = (0..30).map(|i| format!("user{}", i * 7)).collect();
    let mentioned: Vec<&str> = mentioned.iter().map(String::as_str).collect();
    let t = at("2026-11-22T23:30:00+08:00");
    let conversations = [
        Conversation::Private,
        Conversation::Group { group_id: "g" },
        Conversation::System,
        Conversation::UltraGroup {
            group_id: "club",
            bus_channel: Some("news"),
        },
    ];
    for conversation in conversations {
        let msg = Message::new(conversation, "user3", t).with_mentions(Mentions::Users(&mentioned));
        let mut pushes = 0;
        let allocations = allocations_during(|| {
            let prepared = s.prepare(&msg);
            pushes += handles
                .iter()
                .filter(|&&h| prepared.decide(h).is_ok_and(|d| d.push()))
                .count();
        });
        assert_eq!(allocations, 0, "{conversation:?}");
        assert!(pushes > 0, "{conversation:?}");
    }
}

/// A message that concerns VIP lists and urgent consent (its sender is a VIP
/// of one user in ten, in both scopes; it is urgent and one user in twenty
/// allows that) sends those users to the full walk, which allocates nothing either.
#[test]
fn a_fanout_through_vip_lists_and_urgent_consent_allocates_nothing() {
    const N: usize = 100_000;
    let mut s = Settings::new(Config::new(Asia::Shanghai));
    let ids: Vec<String> = (0..N).map(|i| format!("user{i}")).collect();
    let boss = VipList::new(vec![UserId::new("boss").unwrap()], VipScope::Quiet).unwrap();
    let boss_all = VipList::new(vec![UserId::new("boss").unwrap()], VipScope::All).unwrap();
    let mut handles = Vec::with_capacity(N);
    for (i, id) in ids.iter().enumerate() {
        let user = UserId::new(id).unwrap();
        handles.push(s.intern_user(&user).unwrap());
        if i % 2 == 0 {
            s.set_period(&user, Some(period(79_200, 600))).unwrap();
        }
        if i % 10 == 0 {
            s.set_vip_list(&user, if i % 20 == 0 { &boss } else { &boss_all })
                .unwrap();
        }
        if i % 20 == 5 {
            s.set_urgent_allowed(&user, true).unwrap();
        }
    }
    let msg = Message::new(
        Conversation::Group { group_id: "g" },
        "boss",
        at("2026-11-22T23:30:00+08:00"),
    );
    let mut out = Vec::with_capacity(N);
    for m in [msg, msg.with_urgent()] {
        let prepared = s.prepare(&m);
        let allocations = allocations_during(|| {
            prepared.decide_into(&handles, &mut out).unwrap();
            prepared.decide_ids_into(&ids, &mut out);
        });
        assert_eq!(allocations, 0);
        let by = |layer: Layer| out.iter().filter(|d| d.by() == layer && d.push()).count();
        assert_eq!(by(Layer::Vip), N / 20, "the all-scope VIPs");
        assert_eq!(by(Layer::Urgent), if m.urgent { N / 20 } else { 0 });
        assert_eq!(
            by(Layer::NothingSet),
            N / 2 + N / 20 - if m.urgent { N / 20 } else { 0 },
            "the quiet-scope VIPs read through"
        );
    }
}

/// Memory per user, the ids themselves (the arena) excluded: what
/// `docs/performance.md` quotes. The budget of 24 bytes is for a user with a
/// period and type levels: the 8-byte record (at most a quarter more while
/// the records grow) and the id index (at most 12; `store/id_index.rs`);
/// 32 with three conversation levels too.
#[test]
fn a_user_with_a_period_and_type_levels_costs_at_most_24_bytes() {
    let per_user = |n: usize, conversations: usize| {
        let mut s = Settings::new(Config::new(Asia::Shanghai));
        let keys: Vec<ConversationKey> = (0..8)
            .map(|g| {
                ConversationKey::new(ConversationType::Group, TargetId::new(&format!("g{g}")).unwrap(), None).unwrap()
            })
            .collect();
        for i in 0..n {
            let user = UserId::new(&format!("user{i:07}")).unwrap();
            s.set_period(&user, Some(period(79_200, 540))).unwrap();
            s.set_type_level(&user, ConversationType::Group, Some(Level::Mentions))
                .unwrap();
            s.set_type_level(&user, ConversationType::UltraGroup, Some(Level::Nothing))
                .unwrap();
            for k in 0..conversations {
                s.set_conversation_level(&user, &keys[(i + k) % keys.len()], Some(Level::Nothing))
                    .unwrap();
            }
        }
        (s.heap_bytes() - s.id_bytes()) as f64 / n as f64
    };
    for n in [10_000, 100_000] {
        let plain = per_user(n, 0);
        let with_three = per_user(n, 3);
        println!("{n} users: {plain:.1} bytes each with a period and two type levels; {with_three:.1} with three conversation levels too");
        assert!(plain <= 24.0, "{n} users: {plain:.1} bytes each");
        assert!(with_three <= 32.0, "{n} users: {with_three:.1} bytes each");
    }
}

/// The memory a held item costs, measured as the bytes allocated and kept
/// (requested sizes, without the allocator's own overhead): a recipient's
/// first item carries their entry (their id, counts, an index slot); each
/// further item is one 16-byte item in its message's list. Figures in
/// `docs/performance.md`.
#[test]
fn a_held_item_costs_at_most_16_bytes_and_a_recipients_first_at_most_96_more() {
    let mut settings = Settings::new(Config::new(Asia::Shanghai));
    let n = 100_000;
    let ids: Vec<String> = (0..n).map(|i| format!("user{i:06}")).collect();
    for id in &ids {
        settings
            .set_period(&UserId::new(id).unwrap(), Some(period(22 * 3600, 540)))
            .unwrap();
    }
    let handles: Vec<_> = ids.iter().map(|id| settings.user(id).unwrap()).collect();
    let mut held = dnd_engine::Held::new();
    let mut decisions = Vec::new();
    let mut hold = |held: &mut dnd_engine::Held, minute: u32| {
        let message = Message::new(
            Conversation::Group { group_id: "g" },
            "s",
            at(&format!("2026-11-22T23:{minute:02}:00+08:00")),
        )
        .with_hold();
        let prepared = settings.prepare(&message);
        prepared.decide_into(&handles, &mut decisions).unwrap();
        let before = LIVE.with(Cell::get);
        assert_eq!(held.hold_fanout(&prepared, &handles, &decisions).unwrap(), n);
        (LIVE.with(Cell::get) - before) as f64 / n as f64
    };
    let first = hold(&mut held, 0);
    let further: Vec<f64> = (1..4).map(|m| hold(&mut held, m)).collect();
    println!("a recipient's first held item: {first:.1} bytes; each further one: {further:?}");
    assert!(first <= 16.0 + 96.0, "{first}");
    // A message's list is shrunk to fit once its fanout is held.
    for f in further {
        assert!(f <= 16.5, "{f}");
    }
}
