//! The workspace's manifests: one `rust-version`, written once in
//! `[workspace.package]` and inherited by every member.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The members' manifests, as `[workspace] members` lists them.
fn members() -> Vec<(String, String)> {
    let workspace = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let line = workspace
        .lines()
        .find(|l| l.starts_with("members = ["))
        .expect("a members line");
    line.trim_start_matches("members = [")
        .trim_end_matches(']')
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_owned())
        .filter(|m| !m.is_empty())
        .map(|m| {
            let text = std::fs::read_to_string(root().join(&m).join("Cargo.toml")).unwrap();
            (m, text)
        })
        .collect()
}

#[test]
fn every_member_inherits_the_one_rust_version() {
    let members = members();
    assert!(members.len() >= 6, "{members:?}");
    let workspace = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let declared: Vec<&str> = workspace
        .lines()
        .filter(|l| l.trim_start().starts_with("rust-version") && !l.contains(".workspace"))
        .collect();
    assert_eq!(
        declared.len(),
        1,
        "one rust-version in [workspace.package]: {declared:?}"
    );
    for (member, text) in &members {
        let lines: Vec<&str> = package(text)
            .into_iter()
            .filter(|l| l.trim_start().starts_with("rust-version"))
            .collect();
        assert_eq!(lines, ["rust-version.workspace = true"], "{member}");
    }
}

/// The lines of a manifest's `[package]` table.
fn package(manifest: &str) -> Vec<&str> {
    manifest
        .lines()
        .skip_while(|l| l.trim() != "[package]")
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .collect()
}
