//! What the C and the embedding tests share: where cargo put the library,
//! and compiling a C program against it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The directory holding `libdnd_ffi.so` (and `.a`): cargo builds every
/// crate type of the library before the tests, into the directory of the
/// test binaries (`target/debug/deps`) and its parent.
pub fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let deps = exe.parent().expect("target/debug/deps");
    for dir in [deps, deps.parent().expect("target/debug")] {
        if dir.join(library_file()).exists() {
            return dir.to_path_buf();
        }
    }
    panic!("no {} beside {}", library_file(), deps.display());
}

/// The shared library's file name on this platform.
pub fn library_file() -> String {
    format!(
        "{}dnd_ffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// The checked-in header's directory.
pub fn include_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("include")
}

/// Compiles `source` into `exe`, linked against the shared library, with
/// the C compiler the cc crate finds for this target.
pub fn compile_c(source: &Path, exe: &Path) {
    let target = env!("DND_FFI_TARGET");
    let compiler = cc::Build::new()
        .target(target)
        .host(target)
        .opt_level(0)
        .cargo_metadata(false)
        .warnings(true)
        .get_compiler();
    let lib = library_dir();
    let mut command: Command = compiler.to_command();
    command
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-D_POSIX_C_SOURCE=200809L"])
        .arg("-I")
        .arg(include_dir())
        .arg(source)
        .arg("-o")
        .arg(exe)
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-ldnd_ffi");
    let output = command.output().expect("run the C compiler");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
