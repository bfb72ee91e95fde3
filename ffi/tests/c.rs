//! The C test program (`tests/c/decide.c`), compiled with the machine's C
//! compiler against the library and the checked-in header, decides a
//! generated world; every answer it prints is compared with the Rust API's.

mod common;

use std::fmt::Write as _;
use std::process::Command;

use dnd_engine::chrono_tz::Asia::Shanghai;
use dnd_engine::push::{DecisionLine, Push};
use dnd_engine::{Config, ConversationType, Level, Settings};
use dnd_ffi::{layer_code, DndDecision};
use dnd_testkit::world;

const CONFIG: &str = r#"{"timeZone": "Asia/Shanghai", "appDefaults": {"3": 1}}"#;
const USERS: u32 = 60;

/// The world: the generated changes and gets, break-through settings, and
/// the pushes with every user as a recipient (and one urgent, one from a
/// VIP, one with none).
fn requests() -> Vec<(&'static str, String)> {
    let mut requests = world::world(7, 600, USERS);
    requests.extend(world::gets(USERS, 5));
    requests.push(("/user/vip/set.json", "userId=u1&vipUserIds=%5B%22u7%22%5D".into()));
    requests.push(("/user/urgent/set.json", "userId=u2&allow=1".into()));
    requests
}

fn pushes() -> Vec<(String, Vec<String>)> {
    let everyone: Vec<String> = (0..USERS).map(world::user).collect();
    let mut pushes: Vec<_> = world::pushes()
        .into_iter()
        .map(|fields| (world::push(fields, &everyone), everyone.clone()))
        .collect();
    let urgent =
        r#""at":"2026-11-23T01:00:00+08:00","conversationType":10,"targetId":"ug1","fromUserId":"u3","urgent":true"#;
    pushes.push((world::push(urgent, &everyone), everyone.clone()));
    let nobody = r#""at":0,"conversationType":3,"targetId":"g1","fromUserId":"u3""#;
    pushes.push((world::push(nobody, &[]), Vec::new()));
    pushes
}

#[test]
fn a_c_program_decides_as_the_rust_api() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let exe = dir.path().join("decide");
    common::compile_c(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/decide.c"),
        &exe,
    );

    let requests = requests();
    let pushes = pushes();
    let mut input = format!("C {CONFIG}\n");
    for (path, body) in &requests {
        writeln!(input, "R {path} {body}").unwrap();
    }
    for (json, recipients) in &pushes {
        writeln!(input, "P {json}\nU {}", recipients.len()).unwrap();
        for id in recipients {
            writeln!(input, "{id}").unwrap();
        }
    }
    let world_file = dir.path().join("world.txt");
    std::fs::write(&world_file, input).unwrap();
    let output = Command::new(&exe).arg(&world_file).output().expect("run the C program");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(
        output.status.success(),
        "the C program failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The Rust API, fed the same.
    let config = Config::new(Shanghai).with_app_default(ConversationType::Group, Level::Mentions);
    let mut settings = Settings::new(config);
    let mut expected = String::new();
    for (path, body) in &requests {
        writeln!(expected, "R {}", settings.handle(path, body.as_bytes()).to_json()).unwrap();
    }
    let mut pushed = 0;
    for (json, recipients) in &pushes {
        let push = Push::from_json(json).unwrap();
        let ids = push.mentioned_ids();
        let message = push.message(&ids).unwrap();
        let prepared = settings.prepare(&message);
        let mut line = b"{\"decisions\":[".to_vec();
        for (i, id) in recipients.iter().enumerate() {
            let (decision, deferral) = prepared.decide_deferred_id(id);
            let d = DndDecision::of(decision);
            assert_eq!(d.layer, layer_code(decision.by()));
            let defer = deferral.map_or(0, |d| d.until.timestamp_millis());
            writeln!(expected, "D {i} {} {} {} {defer}", d.push, d.layer, d.level).unwrap();
            pushed += usize::from(decision.push());
            if i > 0 {
                line.push(b',');
            }
            DecisionLine::decide(&prepared, id).write_to(&mut line).unwrap();
        }
        line.extend_from_slice(b"]}");
        writeln!(expected, "J {}", String::from_utf8(line).unwrap()).unwrap();
        if let Some(first) = recipients.first() {
            let mut explained = Vec::new();
            DecisionLine::explain(&prepared, first)
                .write_to(&mut explained)
                .unwrap();
            writeln!(expected, "E {}", String::from_utf8(explained).unwrap()).unwrap();
        }
    }
    assert!(
        pushed > 0 && pushed < USERS as usize * (pushes.len() - 1),
        "a world where some push and some do not"
    );

    let answers: String = stdout
        .lines()
        .filter(|l| !l.starts_with("CHECK"))
        .map(|l| format!("{l}\n"))
        .collect();
    for (i, (got, want)) in answers.lines().zip(expected.lines()).enumerate() {
        assert_eq!(got, want, "line {i} of the C program's answers");
    }
    assert_eq!(answers.lines().count(), expected.lines().count());
    let checks: Vec<&str> = stdout.lines().filter_map(|l| l.strip_prefix("CHECK ")).collect();
    for check in [
        "busy",
        "foreign handle",
        "bad recipient",
        "not json",
        "null push",
        "bad config",
        "bad snapshot",
        "not utf-8",
        "empty id",
        "refused request",
        "restore",
        "done",
    ] {
        assert!(
            checks.contains(&check),
            "the C program did not check {check}: {checks:?}"
        );
    }
}
