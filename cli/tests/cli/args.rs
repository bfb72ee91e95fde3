//! The command line: subcommands, options, input files, help and version.

use super::{bin, dnd, lines, push, stderr, stdout, Scratch, PERIOD};

#[test]
fn bad_arguments_print_usage_and_exit_2() {
    for (args, needle) in [
        (&["replay", "--frobnicate"][..], "unexpected argument '--frobnicate'"),
        (
            &["replay", "--time-zone", "Mars/Olympus"],
            "\"Mars/Olympus\" is not an IANA time zone name",
        ),
        (
            &["replay", "--time-zone"],
            "a value is required for '--time-zone <ZONE>'",
        ),
        (
            &["replay", "--app-default", "3"],
            "'--app-default <TYPE=LEVEL>': \"3\": no '='",
        ),
        (&["replay", "--app-default", "2=1"], "conversation type"),
        (&["replay", "--app-default", "3=3"], "DND level"),
        (&["replay", "--app-default", "x=1"], "\"x\" is not a number"),
        (
            &["explain", "--max-line-bytes", "0"],
            "'--max-line-bytes <N>': \"0\" is not a number of bytes",
        ),
        (&["explain", "--max-line-bytes=-5"], "\"-5\" is not a number of bytes"),
        (&["dance"], "unrecognized subcommand 'dance'"),
        (&[], "requires a subcommand"),
    ] {
        let out = dnd(args, "");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains(needle) && err.starts_with("error: ") && err.contains("--help"),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_repeated_single_valued_flag_is_an_error() {
    for args in [
        &["replay", "--time-zone", "UTC", "--time-zone", "Asia/Shanghai"][..],
        &["replay", "--time-zone=UTC", "--time-zone=UTC"],
        &["explain", "--max-line-bytes", "10", "--max-line-bytes", "20"],
    ] {
        let out = dnd(args, PERIOD);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains("cannot be used multiple times"),
            "{}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty(), "nothing is replayed");
    }
    // --app-default may repeat; a later one for the same type wins.
    let out = dnd(
        &["replay", "--app-default", "3=1", "--app-default=3=5"],
        &push(r#"["r"]"#, ""),
    );
    assert_eq!(lines(&out)[0]["decisions"][0]["level"], 5);
}

#[cfg(unix)]
#[test]
fn a_non_utf8_argument_is_an_error() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let bad = OsStr::from_bytes(b"Asia/\xffShanghai");
    for args in [
        vec![OsStr::new("replay"), OsStr::new("--time-zone"), bad],
        vec![OsStr::new("replay"), OsStr::new("--app-default"), bad],
        vec![bad],
    ] {
        let out = bin().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).starts_with("error: "), "{args:?}: {}", stderr(&out));
    }
    // A file name need not be UTF-8 (it is a path): this one does not exist.
    let out = bin().args([OsStr::new("replay"), bad]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("No such file"), "{}", stderr(&out));
}

#[test]
fn help_documents_the_protocol() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["help"],
        &["replay", "--help"],
        &["explain", "-h"],
        &["help", "replay"],
    ] {
        let out = dnd(args, "");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = stdout(&out);
        for needle in [
            "\"request\": PATH",
            "\"push\"",
            "user_conversation_type",
            "Blank lines (empty, or only whitespace) are skipped",
            "byte-order mark",
            "--max-line-bytes (default 64 MiB",
            "only once in an object",
            "Exit status",
        ] {
            assert!(text.contains(needle), "{needle:?} not in the help of {args:?}:\n{text}");
        }
    }
    for sub in ["replay", "explain"] {
        let text = stdout(&dnd(&[sub, "--help"], ""));
        for needle in [
            "--time-zone <ZONE>",
            "--app-default <TYPE=LEVEL>",
            "--max-line-bytes <N>",
            "[FILE]...",
        ] {
            assert!(text.contains(needle), "{needle:?} not in {sub} --help");
        }
    }
}

#[test]
fn help_lists_every_path_the_service_serves() {
    let text = stdout(&dnd(&["--help"], ""));
    for route in dnd_server::routes::all() {
        assert!(text.contains(route.path), "{} not in dnd --help", route.path);
    }
}

#[test]
fn without_a_time_zone_the_zone_used_is_said_on_stderr() {
    for mode in ["replay", "explain"] {
        let out = dnd(&[mode], PERIOD);
        assert_eq!(out.status.code(), Some(0), "{mode}");
        assert_eq!(
            stderr(&out),
            "dnd: no --time-zone given: periods without a zone of their own are read in UTC\n"
        );
        let given = dnd(&[mode, "--time-zone", "Asia/Shanghai"], PERIOD);
        assert_eq!((given.status.code(), stderr(&given).as_str()), (Some(0), ""));
    }
}

#[test]
fn version_is_printed() {
    for flag in ["--version", "-V"] {
        let out = dnd(&[flag], "");
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(stdout(&out), format!("dnd {}\n", env!("CARGO_PKG_VERSION")));
    }
}

#[test]
fn input_files_are_read_in_order_as_one_stream() {
    let dir = Scratch::new("files");
    let get = |user: &str| format!(r#"{{"request": "/user/blockPushPeriod/get.json", "body": "userId={user}"}}"#);
    // a: a byte-order mark, and no newline at the end.
    let a = dir.file("a.jsonl", format!("\u{feff}{PERIOD}\n{}", get("alice")).as_bytes());
    let b = dir.file(
        "b.jsonl",
        format!("{}\n\nnot json\n{}\n", get("bob"), get("alice")).as_bytes(),
    );
    let stdin = format!("{}\n", get("carol"));
    let out = dnd(&["replay", &a, "-", &b], &stdin);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let got = lines(&out);
    assert_eq!(got.len(), 6, "{got:?}");
    assert_eq!(got[0]["code"], 200);
    assert_eq!(got[1]["data"]["period"], 540, "alice's period, set by a's first line");
    assert_eq!(
        got[2]["data"]["period"], 0,
        "carol, from standard input, between a and b"
    );
    assert_eq!(got[3]["data"]["period"], 0, "bob");
    // Lines are numbered across the inputs: 2 in a, 1 on standard input, then b's 3rd.
    assert_eq!(got[4]["error"].as_str().unwrap().split(':').next(), Some("line 6"));
    assert_eq!(got[5]["data"]["period"], 540);
    // Standard input named twice is read once: the second time it is at its end.
    let out = dnd(&["replay", "-", &b, "-"], &stdin);
    assert_eq!(lines(&out).len(), 4);

    // An input that cannot be opened stops everything before a line is read.
    for missing in [dir.0.join("nope.jsonl").to_str().unwrap(), dir.0.to_str().unwrap()] {
        let out = dnd(&["replay", &a, missing], "");
        assert_eq!(out.status.code(), Some(2), "{missing}");
        assert!(out.stdout.is_empty());
        assert!(
            stderr(&out).starts_with(&format!("dnd: {missing}: ")),
            "{}",
            stderr(&out)
        );
    }
}
