//! The chart of docs/performance.md is what its figures draw: the script
//! that draws it, in check mode. Skipped, saying why, where there is no
//! python3.

use std::process::Command;

#[test]
fn the_fanout_chart_is_what_its_csv_draws() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = match Command::new("python3")
        .arg(format!("{root}/scripts/perf-chart.py"))
        .arg("--check")
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: no python3 to run scripts/perf-chart.py ({e})");
            return;
        }
    };
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
