//! The Go and Java programs of docs/embedding.md, taken from the page,
//! built against the library `cargo test` built, run, and what they print
//! compared with the page's output blocks. A toolchain that is missing
//! (`go`, `javac`, JNA) is a message, not a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The page, and the code block after `<!-- {marker} -->`.
fn block(marker: &str) -> String {
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/embedding.md"))
        .expect("docs/embedding.md");
    let at = page
        .find(&format!("<!-- {marker} -->"))
        .unwrap_or_else(|| panic!("no <!-- {marker} --> in docs/embedding.md"));
    let rest = &page[at..];
    let open = rest.find("```").expect("a code block after the marker");
    let body = &rest[open..];
    let start = body.find('\n').expect("a fence line") + 1;
    let end = body[start..].find("\n```").expect("the block's end") + start;
    format!("{}\n", &body[start..end])
}

fn found(tool: &str) -> bool {
    Command::new(tool).arg("-version").output().is_ok() || Command::new(tool).arg("version").output().is_ok()
}

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_go_example_prints_what_the_page_says() {
    if !found("go") {
        eprintln!("skipped: no `go` on PATH; the Go example of docs/embedding.md was not run");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.go", &block("example: go main.go"));
    write(dir.path(), "go.mod", "module example\n\ngo 1.19\n");
    let lib = common::library_dir();
    let printed = run(Command::new("go")
        .args(["run", "."])
        .current_dir(dir.path())
        .env("CGO_ENABLED", "1")
        .env("CGO_CFLAGS", format!("-I{}", common::include_dir().display()))
        .env("CGO_LDFLAGS", format!("-L{0} -Wl,-rpath,{0}", lib.display()))
        .env("GOFLAGS", "-mod=mod")
        .env("GOCACHE", dir.path().join("cache"))
        .env("GOPATH", dir.path().join("gopath")));
    assert_eq!(printed, block("output: go"));
}

#[test]
fn the_java_example_prints_what_the_page_says() {
    if !found("javac") || !found("java") {
        eprintln!("skipped: no `javac`/`java` on PATH; the Java example of docs/embedding.md was not run");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let jna = Command::new("bash")
        .arg(root.join("scripts/jna.sh"))
        .output()
        .expect("run scripts/jna.sh");
    match jna.status.code() {
        Some(0) => {}
        Some(77) => {
            eprintln!("skipped: {}", String::from_utf8_lossy(&jna.stderr).trim());
            return;
        }
        _ => panic!("scripts/jna.sh failed: {}", String::from_utf8_lossy(&jna.stderr)),
    }
    let jar = String::from_utf8(jna.stdout).unwrap().trim().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let source = write(dir.path(), "DndExample.java", &block("example: java DndExample.java"));
    run(Command::new("javac")
        .args(["-cp", &jar, "-d"])
        .arg(dir.path())
        .arg(&source));
    let classpath = format!("{jar}:{}", dir.path().display());
    let printed = run(Command::new("java")
        .args(["-cp", &classpath])
        .arg(format!("-Djna.library.path={}", common::library_dir().display()))
        .arg("DndExample"));
    assert_eq!(printed, block("output: java"));
}
