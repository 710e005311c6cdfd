//! Embedding kycrules: load a policy, decide applications, print the JSON
//! lines `kycrules check --format json` would print.
//!
//! ```sh
//! cargo run -p kycrules --example embed -- rules examples/applications/01-accepted.yaml
//! ```

use kycrules::{DecideOptions, Policy};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let policy = match args.next().as_deref() {
        None | Some("shipped") => Policy::shipped(),
        Some(path) => match Policy::load(&[PathBuf::from(path)]) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
    };
    eprintln!("policy {} {} ({})", policy.name(), policy.version(), policy.hash());
    let opts = DecideOptions::default();
    let files: Vec<PathBuf> = args.map(PathBuf::from).collect();
    let mut out = std::io::stdout().lock();
    for decided in policy.decide_files(files, &opts) {
        // A closed output (`| head`) ends the run quietly.
        if writeln!(out, "{}", policy.json_line(&decided)).is_err() {
            break;
        }
    }
    ExitCode::SUCCESS
}
