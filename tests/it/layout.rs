//! The house as `docs/design.md` draws it: the tree there lists exactly the
//! files of `src/`, no two files of `src/` share a name, no module reaches a
//! sibling through the crate root's re-exports, and no Rust file of the
//! workspace is longer than 600 lines.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, as paths relative to `base`, `/`-separated.
fn rust_files(base: &Path, dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(base, &path, out);
            }
        } else if name.ends_with(".rs") {
            let rel = path.strip_prefix(base).unwrap();
            out.push(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
}

/// The files the tree in `docs/design.md` draws, as paths under `src/`.
/// A line of the tree is `│   ├── name.rs   what it holds`; its depth is
/// the column of its name over four.
fn drawn_files(design: &str) -> Vec<String> {
    let start = design
        .find("<!-- layout:")
        .expect("docs/design.md marks its layout tree");
    let block = &design[start..];
    let block = &block[block.find("```text\n").expect("the tree is a text block") + 8..];
    let block = &block[..block.find("```").expect("the tree's block ends")];
    let mut lines = block.lines();
    assert_eq!(lines.next(), Some("src/"), "the tree starts at src/");
    let mut stack: Vec<String> = Vec::new();
    let mut files = Vec::new();
    for line in lines {
        let chars: Vec<char> = line.chars().collect();
        let at = chars
            .iter()
            .position(|c| c.is_ascii_alphanumeric() || *c == '_')
            .unwrap_or_else(|| panic!("a tree line without a name: {line:?}"));
        assert!(
            at >= 4 && at % 4 == 0,
            "a name at column {at}, not a multiple of 4: {line:?}"
        );
        let depth = at / 4 - 1;
        let name: String = chars[at..].iter().take_while(|c| !c.is_whitespace()).collect();
        assert!(name.ends_with(".rs"), "the tree names files only: {line:?}");
        assert!(depth <= stack.len(), "{name} is drawn deeper than its parent");
        stack.truncate(depth);
        let path = stack.iter().map(|p| format!("{p}/")).collect::<String>() + &name;
        stack.push(name.trim_end_matches(".rs").to_owned());
        files.push(path);
    }
    files
}

#[test]
fn the_design_draws_every_file_of_src_and_nothing_else() {
    let design = fs::read_to_string(root().join("docs/design.md")).unwrap();
    let drawn: BTreeSet<String> = drawn_files(&design).into_iter().collect();
    let mut present = Vec::new();
    rust_files(&root().join("src"), &root().join("src"), &mut present);
    let present: BTreeSet<String> = present.into_iter().collect();
    let missing: Vec<_> = present.difference(&drawn).collect();
    let stale: Vec<_> = drawn.difference(&present).collect();
    assert!(
        missing.is_empty(),
        "files of src/ the tree in docs/design.md does not draw: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "files the tree in docs/design.md draws that src/ lacks: {stale:?}"
    );
}

#[test]
fn the_tree_reader_sees_nesting() {
    let design = "<!-- layout: -->\n```text\nsrc/\n├── a.rs  x\n│   └── b.rs  y\n│       └── c.rs\n└── d.rs\n```\n";
    assert_eq!(drawn_files(design), ["a.rs", "a/b.rs", "a/b/c.rs", "d.rs"]);
}

#[test]
fn no_two_files_of_src_share_a_name() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &root().join("src"), &mut files);
    let mut seen = BTreeSet::new();
    for file in &files {
        let name = file.rsplit('/').next().unwrap();
        // `mod.rs` is not used; every module file is named after its module.
        assert_ne!(name, "mod.rs", "{file}: name the file after its module");
        assert!(seen.insert(name.to_owned()), "two files of src/ are named {name}");
    }
}

/// The crate root's names that are re-exports: a module that writes
/// `crate::Settings` or `crate::api::` reaches a sibling through `lib.rs`
/// instead of naming the module that defines it.
#[test]
fn no_module_reaches_a_sibling_through_the_crate_root() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &root().join("src"), &mut files);
    let reexported_lowercase = [
        "api",
        "api_v4",
        "push",
        "shard",
        "chrono",
        "chrono_tz",
        "instant_from_millis",
        "parse_instant",
        "parse_zone",
    ];
    let mut offences = Vec::new();
    for file in files.iter().filter(|f| *f != "lib.rs") {
        let text = fs::read_to_string(root().join("src").join(file)).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue; // doc links name the public path, as readers see it
            }
            let mut rest = code;
            while let Some(at) = rest.find("crate::") {
                let after = &rest[at + 7..];
                let ident: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let through_root = after.starts_with('{')
                    || ident.starts_with(|c: char| c.is_ascii_uppercase())
                    || reexported_lowercase.contains(&ident.as_str());
                if through_root {
                    offences.push(format!("src/{file}:{}: {}", n + 1, line.trim()));
                }
                rest = after;
            }
        }
    }
    assert!(
        offences.is_empty(),
        "modules importing through lib.rs's re-exports:\n{}",
        offences.join("\n")
    );
}

#[test]
fn no_rust_file_of_the_workspace_is_longer_than_600_lines() {
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches", "cli", "server", "cluster", "fuzz", "testkit"] {
        let path = root().join(dir);
        if path.is_dir() {
            rust_files(&root(), &path, &mut files);
        }
    }
    assert!(
        files.len() > 50,
        "the walk found the workspace's files ({})",
        files.len()
    );
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = fs::read_to_string(root().join(f)).unwrap().lines().count();
            (lines > MAX_LINES).then(|| format!("{f}: {lines} lines"))
        })
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines (split them by concept): {long:?}"
    );
}
