//! `dnd-server`: the service alone, for tests and for deployments without the
//! `dnd` command. `dnd serve` is the same with the same flags.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: dnd-server --listen ADDR --data DIR [--config FILE] [--tls-cert FILE --tls-key FILE]";

fn main() -> ExitCode {
    let mut listen = None;
    let mut data = None;
    let mut config_file = None;
    let mut tls_cert = None;
    let mut tls_key = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--listen" => &mut listen,
            "--data" => &mut data,
            "--config" => &mut config_file,
            "--tls-cert" => &mut tls_cert,
            "--tls-key" => &mut tls_key,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                say(format_args!("dnd-server: unknown argument {other:?}\n{USAGE}"));
                return ExitCode::from(2);
            }
        };
        *slot = args.next();
    }
    let (Some(listen), Some(data)) = (listen, data) else {
        say(format_args!("dnd-server: --listen and --data are required\n{USAGE}"));
        return ExitCode::from(2);
    };
    let outcome = (|| {
        let listen = listen.parse().map_err(|e| format!("--listen {listen:?}: {e}"))?;
        let mut config = match config_file {
            Some(path) => dnd_server::Config::from_file(&PathBuf::from(path))?,
            None => dnd_server::Config::default(),
        }
        .with_env()?;
        if tls_cert.is_some() || tls_key.is_some() {
            config.tls_cert = tls_cert.map(PathBuf::from);
            config.tls_key = tls_key.map(PathBuf::from);
        }
        dnd_server::run(config, &PathBuf::from(data), listen)
    })();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            say(format_args!("dnd-server: {e}"));
            ExitCode::FAILURE
        }
    }
}

/// A line on standard error; a closed or full one fails nothing.
fn say(what: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{what}");
}
