//! `dnd timeline`: the SVG read back with usvg, every mark where its
//! message's time puts it on the axis, pushed or not as the engine decides,
//! and every deferral's arrow ending at its `deferUntil`; the README's
//! picture is the command's current output.

use chrono::{DateTime, Utc};
use dnd_engine::chrono_tz::Asia::Shanghai;
use dnd_engine::push::Push;
use dnd_engine::{api_v4, Config, Settings};

use crate::{bin, stderr, stdout};

const WEEK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/week.jsonl");
const PICTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/week.svg");

/// What the engine, given the lines one by one, decides for `user`: each of
/// their messages' time, whether it pushed, and its `deferUntil`.
fn decisions(input: &str, user: &str) -> Vec<(DateTime<Utc>, bool, Option<DateTime<Utc>>)> {
    let mut settings = Settings::new(Config::new(Shanghai));
    let mut out = Vec::new();
    for line in input.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        // A release changes no setting and decides nothing new.
        if value.get("release").is_some() {
            continue;
        }
        if let Some(push) = value.get("push") {
            let push = Push::from_json(&push.to_string()).unwrap();
            if !push.recipients.iter().any(|r| r == user) {
                continue;
            }
            let ids = push.mentioned_ids();
            let message = push.message(&ids).unwrap();
            let (decision, deferral) = settings.prepare(&message).decide_deferred_id(user);
            out.push((message.at.as_datetime(), decision.push(), deferral.map(|d| d.until)));
        } else {
            let path = value["request"].as_str().unwrap();
            match &value["body"] {
                serde_json::Value::String(body) => {
                    let _ = settings.handle(path, body.as_bytes());
                }
                body => {
                    let _ = settings.apply(&api_v4::parse(path, body.to_string().as_bytes()).unwrap());
                }
            }
        }
    }
    out
}

fn picture(args: &[&str]) -> String {
    let out = bin().arg("timeline").args(args).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn marks_sit_at_their_messages_times_and_arrows_end_at_defer_until() {
    let input = std::fs::read_to_string(WEEK).unwrap();
    let from: DateTime<Utc> = "2026-11-23T00:00:00+08:00".parse().unwrap();
    let to: DateTime<Utc> = "2026-11-30T00:00:00+08:00".parse().unwrap();
    let (mut marks, mut arrows) = (0, 0);
    for user in ["alice", "bob", "carol", "dave", "erin"] {
        let svg = picture(&[
            "--user",
            user,
            "--time-zone",
            "Asia/Shanghai",
            "--from",
            "2026-11-23T00:00:00+08:00",
            "--to",
            "2026-11-30T00:00:00+08:00",
            WEEK,
        ]);
        let tree = usvg::Tree::from_str(&svg, &usvg::Options::default()).unwrap_or_else(|e| panic!("{user}: {e}"));
        let axis = tree.node_by_id("axis").expect("the plot area").abs_bounding_box();
        let x = |t: DateTime<Utc>| {
            let t = t.clamp(from, to);
            axis.x() as f64
                + (t - from).num_milliseconds() as f64 / (to - from).num_milliseconds() as f64 * axis.width() as f64
        };
        let expected = decisions(&input, user);
        assert!(!expected.is_empty(), "{user} gets messages");
        // The picture draws the messages of its range (the week's night of
        // held pushes runs past it).
        for (n, (at, push, until)) in expected.iter().filter(|(at, _, _)| *at < to).enumerate() {
            let (mine, other) = if *push { ("push", "held") } else { ("held", "push") };
            assert!(
                tree.node_by_id(&format!("mark-{n}-{other}")).is_none(),
                "{user}'s mark {n}"
            );
            let mark = tree
                .node_by_id(&format!("mark-{n}-{mine}"))
                .unwrap_or_else(|| panic!("{user}'s mark {n} is {mine}"))
                .abs_bounding_box();
            let centre = mark.x() as f64 + mark.width() as f64 / 2.0;
            assert!(
                (centre - x(*at)).abs() < 0.05,
                "{user}'s mark {n}: {centre} against {}",
                x(*at)
            );
            marks += 1;
            let arrow = tree.node_by_id(&format!("defer-{n}"));
            match until {
                Some(until) => {
                    let arrow = arrow
                        .unwrap_or_else(|| panic!("{user}'s mark {n} has an arrow"))
                        .abs_bounding_box();
                    assert!(
                        (arrow.x() as f64 - x(*at)).abs() < 0.05,
                        "{user}'s arrow {n} starts at the mark"
                    );
                    let end = arrow.right() as f64;
                    assert!(
                        (end - x(*until)).abs() < 0.05,
                        "{user}'s arrow {n}: {end} against {}",
                        x(*until)
                    );
                    arrows += 1;
                }
                None => assert!(arrow.is_none(), "{user}'s mark {n} has no deferral"),
            }
        }
        assert!(tree.node_by_id(&format!("mark-{}-push", expected.len())).is_none());
        assert!(tree.node_by_id(&format!("mark-{}-held", expected.len())).is_none());
    }
    // The week has pushed and held messages and deferrals to check.
    assert!(marks >= 15 && arrows >= 3, "{marks} marks, {arrows} arrows");
}

#[test]
fn the_picture_shows_quiet_time_overrides_defaults_and_a_legend() {
    let svg = picture(&["--user", "carol", "--time-zone", "Asia/Shanghai", WEEK]);
    for part in [
        "level on moonclub",
        "admin default moonclub",
        "legend",
        "to deferUntil",
        "Asia/Shanghai",
    ] {
        assert!(svg.contains(part), "{part}");
    }
    // carol's level 5 on moonclub expires on Monday at 22:00, her time.
    assert!(svg.contains("<title>expires Mon 2026-11-23 22:00</title>"), "{svg}");
    let svg = picture(&["--user", "bob", "--time-zone", "Asia/Shanghai", WEEK]);
    assert!(svg.contains("snooze: level 4 from Mon 00:00 to Tue 09:00"), "{svg}");
    let svg = picture(&["--user", "alice", "--time-zone", "Asia/Shanghai", WEEK]);
    assert!(
        svg.contains("quiet time: schedule: level 5 from Mon 22:00 to Tue 07:00"),
        "{svg}"
    );
    assert!(
        svg.contains("quiet time: schedule: level 2 from Sat 00:00 to Sat 10:00"),
        "{svg}"
    );
}

#[test]
fn a_user_without_messages_needs_a_start_and_bad_times_are_refused() {
    let out = bin().args(["timeline", "--user", "nobody", WEEK]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("give --from"), "{}", stderr(&out));
    let out = bin()
        .args(["timeline", "--user", "alice", "--from", "yesterday", WEEK])
        .output()
        .unwrap();
    assert!(stderr(&out).contains("--from"), "{}", stderr(&out));
    let svg = picture(&["--user", "nobody", "--from", "2026-11-23T00:00:00Z", WEEK]);
    assert!(!svg.contains("id=\"mark-"));
    assert!(usvg::Tree::from_str(&svg, &usvg::Options::default()).is_ok());
}

/// `scripts/week-svg.sh` writes docs/week.svg; the README shows it.
#[test]
fn the_readmes_week_is_the_commands_current_picture() {
    let svg = picture(&["--user", "alice", "--time-zone", "Asia/Shanghai", WEEK]);
    let kept = std::fs::read_to_string(PICTURE).unwrap_or_default();
    assert!(
        kept == svg,
        "docs/week.svg is not what `dnd timeline` draws now: run scripts/week-svg.sh"
    );
}
