//! The fuzz driver, briefly: it runs, finds nothing wrong in a short
//! search, and replays an episode exactly.

use std::process::Command;

use dnd_fuzz::reach::Reach;
use dnd_fuzz::{run, Avoid, Options};

/// Nothing is stepped around: every check is on.
const OPEN: Avoid = Avoid {
    fffd: false,
    duplicates: false,
};

fn options(seed: u64, count: u64) -> Options {
    Options {
        seed,
        count: Some(count),
        time: None,
        threads: 1,
        episode: None,
        progress: None,
        keep_going: false,
        avoid: OPEN,
    }
}

/// 20,000 inputs of every kind, with every check on: no failure, and the
/// engine both accepted and refused some of them (the generator reaches
/// both sides).
#[test]
fn fuzz_smoke() {
    match run(&options(20_260_101, 20_000)) {
        Ok(s) => {
            assert!(s.inputs >= 20_000, "{s:?}");
            assert!(s.accepted > 2_000 && s.refused > 2_000, "{s:?}");
        }
        Err(f) => panic!("{}\n  {}\n  reproduce: {}", f.what, f.shown, f.command()),
    }
}

/// A short search gets through to the policy requests (VIP lists and
/// urgent consent, as form bodies and JSON), to decisions by the
/// break-through layers and under the mention policy, to pushes that carry
/// the policy fields, and to snapshot restore in both formats, valid and
/// near-valid: each path is reached a number of times.
#[test]
fn fuzz_reaches_the_policy_paths_and_both_snapshot_formats() {
    match run(&options(20_260_102, 10_000)) {
        Ok(s) => {
            for r in Reach::ALL {
                assert!(
                    s.reached.get(r) >= 5,
                    "{} reached {} times: {}",
                    r.name(),
                    s.reached.get(r),
                    s.reached.show()
                );
            }
        }
        Err(f) => panic!("{}\n  {}\n  reproduce: {}", f.what, f.shown, f.command()),
    }
}

fn fuzz(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dnd-fuzz"))
        .args(args)
        .output()
        .unwrap()
}

/// The command line: a seeded run says how it went; an episode replays the
/// same inputs every time; a bad flag is an error.
#[test]
fn fuzz_command_runs_and_replays_an_episode() {
    let ok = fuzz(&["--seed", "5", "--count", "640", "--quiet", "--avoid", "fffd"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let out = String::from_utf8(ok.stdout).unwrap();
    assert!(out.contains("ok: 640 inputs") && out.contains("seed 5"), "{out}");

    let first = fuzz(&["--seed", "5", "--episode", "3", "--avoid", "fffd"]);
    let second = fuzz(&["--seed", "5", "--episode", "3", "--avoid", "fffd"]);
    assert!(first.status.success());
    let text = String::from_utf8(first.stdout.clone()).unwrap();
    assert!(text.contains("#0: ") && text.contains("#63: "), "{text}");
    // The same world and inputs, with the same outcomes (the last line is the timing).
    let inputs = |out: &[u8]| -> Vec<String> {
        let text = String::from_utf8_lossy(out).into_owned();
        text.lines()
            .filter(|l| !l.starts_with("dnd-fuzz:"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(inputs(&first.stdout).len(), 66);
    assert_eq!(inputs(&first.stdout), inputs(&second.stdout));

    for bad in [
        &["--count"][..],
        &["--seed", "x"],
        &["--count", "1", "--seconds", "1"],
        &["--frobnicate", "1"],
    ] {
        assert_eq!(fuzz(bad).status.code(), Some(2), "{bad:?}");
    }
}
