//! The workspace's manifests and what a published package carries: one
//! `rust-version`, written once in `[workspace.package]` and inherited by
//! every member; the publishing metadata of every package; the licence
//! files and the changelog.

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

#[test]
fn every_package_carries_its_publishing_metadata_and_licences() {
    for (member, text) in members() {
        let package = package(&text);
        for key in [
            "license",
            "repository",
            "keywords",
            "categories",
            "include",
            "description",
        ] {
            assert!(
                package
                    .iter()
                    .any(|l| l.starts_with(&format!("{key} =")) || l.starts_with(&format!("{key}.workspace = true"))),
                "{member}: no {key} in [package]"
            );
        }
        let include = package.iter().find(|l| l.starts_with("include =")).unwrap();
        for file in ["LICENSE-MIT", "LICENSE-APACHE"] {
            assert!(include.contains(file), "{member}: include lacks {file}");
            let text = std::fs::read_to_string(root().join(&member).join(file))
                .unwrap_or_else(|e| panic!("{member}/{file}: {e}"));
            assert!(
                text.contains(if file == "LICENSE-MIT" { "MIT" } else { "Apache License" })
                    || text.contains("Permission is hereby granted")
            );
        }
    }
    let workspace = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(workspace.contains("license = \"MIT OR Apache-2.0\""));
    let changelog = std::fs::read_to_string(root().join("CHANGELOG.md")).unwrap();
    assert!(changelog.contains("## 0.1.0"), "the changelog goes back to 0.1.0");
}
