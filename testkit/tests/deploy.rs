//! What deploys the service: the container image (`Dockerfile`) and the
//! systemd unit (`deploy/dnd.service`), both described in `docs/deploy.md`.
//! Their text is checked everywhere; the image is built and run only where
//! a container engine answers (a docker client alone is not enough), and
//! the test says why it skips otherwise.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_dockerfile_builds_in_stages_and_runs_unprivileged_with_a_readiness_check() {
    let file = read("Dockerfile");
    let stages: Vec<&str> = file.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert!(stages.len() >= 2, "multi-stage: {stages:?}");
    let workspace = read("Cargo.toml");
    let version = workspace
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("the workspace's rust-version");
    assert!(
        stages[0].contains(&format!("rust:{version}")),
        "the builder is the workspace's Rust: {}",
        stages[0]
    );
    assert!(file.contains("--locked"), "built from Cargo.lock");
    let runtime = &file[file.rfind("\nFROM ").unwrap()..];
    let user = runtime
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("the runtime stage names its user");
    assert!(!user.starts_with("root") && !user.starts_with('0'), "non-root: {user}");
    let health = runtime
        .lines()
        .skip_while(|l| !l.starts_with("HEALTHCHECK"))
        .take(2)
        .collect::<String>();
    assert!(health.contains("/ready"), "HEALTHCHECK on /ready: {health}");
    assert!(read(".dockerignore").lines().any(|l| l.trim() == "target/"));
}

#[test]
fn the_systemd_unit_is_sandboxed_and_keeps_secrets_off_the_command_line() {
    let unit = read("deploy/dnd.service");
    for option in [
        "NoNewPrivileges=yes",
        "DynamicUser=yes",
        "StateDirectory=dnd",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "CapabilityBoundingSet=",
        "RestrictAddressFamilies=",
        "SystemCallFilter=@system-service",
        "MemoryDenyWriteExecute=yes",
        "KillSignal=SIGTERM",
        "EnvironmentFile=",
    ] {
        assert!(unit.lines().any(|l| l.starts_with(option)), "{option}");
    }
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    assert!(exec.contains("serve") && exec.contains("--data /var/lib/dnd"), "{exec}");
    assert!(!exec.to_ascii_lowercase().contains("secret"), "{exec}");
    // Where systemd's own checker is installed: every key known, the unit valid.
    if let Ok((true, _)) = run(
        Command::new("systemd-analyze").arg("--version"),
        Duration::from_secs(10),
    ) {
        let dir = std::env::temp_dir().join(format!("dnd-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let copy = dir.join("dnd-verify.service");
        std::fs::write(&copy, unit.replace("/usr/local/bin/dnd", "/bin/true")).unwrap();
        let verdict = run(
            Command::new("systemd-analyze").arg("verify").arg(&copy),
            Duration::from_secs(30),
        );
        let _ = std::fs::remove_dir_all(&dir);
        let (ok, text) = verdict.expect("systemd-analyze verify");
        assert!(ok && text.trim().is_empty(), "systemd-analyze verify:\n{text}");
    } else {
        println!("systemd-analyze is not installed: the unit's keys are not verified by systemd");
    }
    let deploy = read("docs/deploy.md");
    for part in ["Dockerfile", "deploy/dnd.service", "HEALTHCHECK", "/ready"] {
        assert!(deploy.contains(part), "docs/deploy.md names {part}");
    }
}

/// Runs `command` for at most `limit`; its status and output, or why not.
fn run(command: &mut Command, limit: Duration) -> Result<(bool, String), String> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + limit;
    loop {
        if let Some(_status) = child.try_wait().map_err(|e| e.to_string())? {
            let out = child.wait_with_output().map_err(|e| e.to_string())?;
            let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
            return Ok((out.status.success(), text));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("no answer within {} s", limit.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_image_builds_and_runs_where_a_container_engine_answers() {
    let engine = match run(Command::new("docker").arg("info"), Duration::from_secs(20)) {
        Ok((true, _)) => "docker",
        Ok((false, why)) => {
            let lines: Vec<&str> = why.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            let why = lines
                .iter()
                .find(|l| l.contains("Cannot connect") || l.to_ascii_lowercase().contains("error"))
                .or(lines.last())
                .copied()
                .unwrap_or("docker info failed")
                .to_owned();
            println!("skipped: the docker client is here but no container engine answers ({why})");
            return;
        }
        Err(why) => {
            println!("skipped: no container engine (docker: {why})");
            return;
        }
    };
    let tag = format!("dnd-engine-test:{}", std::process::id());
    let (built, log) = run(
        Command::new(engine)
            .args(["build", "-t", &tag, "."])
            .current_dir(root()),
        Duration::from_secs(3600),
    )
    .expect("docker build");
    assert!(built, "docker build failed:\n{log}");
    let (ran, out) = run(
        Command::new(engine).args(["run", "--rm", &tag, "--version"]),
        Duration::from_secs(120),
    )
    .expect("docker run");
    let _ = run(Command::new(engine).args(["rmi", "-f", &tag]), Duration::from_secs(60));
    assert!(ran && out.contains("dnd "), "{out}");
}
