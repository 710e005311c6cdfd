//! `kycrules gen`: realistic applications for load tests, on stdout.

use super::{ExitStatus, PolicyArgs};
use clap::{Args, ValueEnum};
use kycrules::r#gen::{self, Format};
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenFormat {
    /// One application per line.
    Jsonl,
    /// YAML documents separated by `---`.
    Yaml,
}

#[derive(Args, Debug)]
pub struct GenArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// How many applications to write.
    pub count: u64,
    /// The seed; the same seed and policy give the same output.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: GenFormat,
}

pub fn run(args: &GenArgs) -> ExitStatus {
    let Some((rs, _sources)) = args.policy.load() else {
        return ExitStatus::Error;
    };
    let format = match args.format {
        GenFormat::Jsonl => Format::Jsonl,
        GenFormat::Yaml => Format::Yaml,
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match r#gen::write(&rs, args.count, args.seed, format, &mut out).and_then(|()| out.flush()) {
        Ok(()) => ExitStatus::Success,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitStatus::Success,
        Err(e) => {
            eprintln!("error: cannot write the applications: {e}");
            ExitStatus::Error
        }
    }
}
