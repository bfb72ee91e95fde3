//! `dnd-fuzz`: the seeded fuzz driver. See `docs/fuzzing.md`.

use std::process::ExitCode;
use std::time::Duration;

use dnd_fuzz::{run, Options};

const HELP: &str = "\
dnd-fuzz: generated and mutated form bodies, JSON requests, push objects and
snapshots through dnd-engine's parse, apply, decide and save/restore, checked
against the invariants and the naive oracle.

USAGE:
    dnd-fuzz [--seed N] [--count N | --seconds N] [--threads N]
    dnd-fuzz --seed N --episode E      run one episode, printing every input

OPTIONS:
    --seed N       the seed of the search (default: from the clock, printed)
    --count N      stop after N inputs (default 1000000)
    --seconds N    stop after N seconds instead
    --threads N    worker threads (default 1)
    --episode E    reproduce episode E of the seed
    --keep-going   go on after a failure, report each kind of failure once
    --avoid LIST   step around known open defects (comma-separated):
                   fffd (ids with U+FFFD), duplicates (snapshot entries)
    --quiet        no progress lines

On a failure it prints the failing input, the command that reproduces it,
writes both to fuzz-failure-SEED-EPISODE.txt, and exits with status 1.";

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        count: None,
        time: None,
        threads: 1,
        episode: None,
        progress: Some(Duration::from_secs(10)),
        keep_going: false,
        avoid: dnd_fuzz::Avoid::default(),
    };
    let mut args = std::env::args_os().skip(1);
    let mut seen = Vec::new();
    while let Some(arg) = args.next() {
        let arg = arg.into_string().map_err(|a| format!("{a:?} is not UTF-8"))?;
        if arg == "--help" || arg == "-h" {
            println!("{HELP}");
            std::process::exit(0);
        }
        if seen.contains(&arg) {
            return Err(format!("{arg} is given twice"));
        }
        seen.push(arg.clone());
        if arg == "--quiet" {
            options.progress = None;
            continue;
        }
        if arg == "--keep-going" {
            options.keep_going = true;
            continue;
        }
        let value = args
            .next()
            .and_then(|v| v.into_string().ok())
            .ok_or_else(|| format!("{arg} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{arg}: {value:?} is not a whole number"))
        };
        match arg.as_str() {
            "--seed" => options.seed = number()?,
            "--count" => options.count = Some(number()?),
            "--seconds" => options.time = Some(Duration::from_secs(number()?)),
            "--threads" => options.threads = usize::try_from(number()?).map_err(|e| e.to_string())?.max(1),
            "--episode" => options.episode = Some(number()?),
            "--avoid" => options.avoid = dnd_fuzz::Avoid::parse(&value)?,
            _ => return Err(format!("unknown argument {arg}; see --help")),
        }
    }
    if options.count.is_some() && options.time.is_some() {
        return Err("give --count or --seconds, not both".into());
    }
    if options.count.is_none() && options.time.is_none() {
        options.count = Some(1_000_000);
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("dnd-fuzz: {e}");
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "dnd-fuzz: seed {}, {} thread(s), {}",
        options.seed,
        options.threads,
        match (options.episode, options.count, options.time) {
            (Some(e), _, _) => format!("episode {e} only"),
            (_, Some(c), _) => format!("{c} inputs"),
            (_, _, Some(t)) => format!("{} s", t.as_secs()),
            _ => String::new(),
        }
    );
    match run(&options) {
        Ok(s) if !s.failures.is_empty() => {
            for (f, n) in &s.failures {
                report(f, &format!(" (met {n} times)"));
            }
            println!(
                "dnd-fuzz: {} kinds of failure in {} inputs, seed {}",
                s.failures.len(),
                s.inputs,
                options.seed
            );
            ExitCode::FAILURE
        }
        Ok(s) => {
            let secs = s.elapsed.as_secs_f64();
            println!(
                "dnd-fuzz: ok: {} inputs ({} episodes, {} accepted, {} refused) in {secs:.1} s, {:.0} inputs/s, seed {}",
                s.inputs,
                s.episodes,
                s.accepted,
                s.refused,
                s.inputs as f64 / secs.max(1e-9),
                options.seed
            );
            println!("dnd-fuzz: reached: {}", s.reached.show());
            ExitCode::SUCCESS
        }
        Err(f) => {
            report(&f, "");
            ExitCode::FAILURE
        }
    }
}

/// Prints failure `f` with its reproducer, and writes both to a file.
fn report(f: &dnd_fuzz::Failure, times: &str) {
    {
        {
            let input = match f.input {
                Some(i) => format!("input #{i} of episode {}", f.episode),
                None => format!("the set-up or closing check of episode {}", f.episode),
            };
            let report = format!(
                "FAILURE{times}: {}\n{input}, seed {}:\n  {}\nreproduce: {}\n",
                f.what,
                f.seed,
                f.shown,
                f.command()
            );
            eprint!("{report}");
            let file = format!("fuzz-failure-{}-{}.txt", f.seed, f.episode);
            match std::fs::write(&file, &report) {
                Ok(()) => eprintln!("written to {file}"),
                Err(e) => eprintln!("could not write {file}: {e}"),
            }
        }
    }
}
