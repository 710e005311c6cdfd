//! `kycrules prove OLD NEW [--claim tightens|equivalent]`: whether a policy
//! change only tightens (or changes nothing) over every possible
//! application. Exit 0 proven, 1 refuted (with a counterexample both policies
//! confirm), 3 unknown, 2 error. The procedure is [`kycrules::prove`].

use super::check::parse_date;
use super::{ColorChoice, ErrorFormat, ExitStatus, PolicyArgs, write_out};
use clap::{Args, ValueEnum};
use kycrules::Policy;
use kycrules::date::Date;
use kycrules::prove::{self, Claim, Verdict};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClaimArg {
    /// NEW decides every application at least as severely as OLD.
    Tightens,
    /// NEW decides every application as OLD does.
    Equivalent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProveFormat {
    Human,
    Json,
}

#[derive(Args, Debug)]
pub struct ProveArgs {
    /// The current policy: a `.rules` file or a directory of them.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The proposed policy: a `.rules` file or a directory of them.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// What to prove of NEW against OLD.
    #[arg(long, value_enum, default_value = "tightens")]
    pub claim: ClaimArg,
    /// The date rules and banks are in force on (YYYY-MM-DD; default: today).
    #[arg(long = "as-of", value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: ProveFormat,
    /// When to colour the output (`NO_COLOR` turns `auto` off).
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// How to print policy errors.
    #[arg(long = "error-format", value_enum, default_value = "human")]
    pub error_format: ErrorFormat,
}

impl ProveArgs {
    fn load(&self, path: &Path) -> Option<Policy> {
        let args = PolicyArgs {
            policy: vec![path.to_path_buf()],
            color: self.color,
            error_format: self.error_format,
        };
        let (rs, sources) = args.load()?;
        Some(Policy::new(rs, sources, Vec::new()))
    }
}

pub fn run(args: &ProveArgs) -> ExitStatus {
    let old = args.load(&args.old);
    let new = args.load(&args.new);
    let (Some(old), Some(new)) = (old, new) else {
        return ExitStatus::Error;
    };
    let claim = match args.claim {
        ClaimArg::Tightens => Claim::Tightens,
        ClaimArg::Equivalent => Claim::Equivalent,
    };
    let as_of = args.as_of.unwrap_or_else(Date::today);
    let report = prove::prove(&old, &new, claim, as_of);
    let text = match args.format {
        ProveFormat::Json => prove::report_json(&report),
        ProveFormat::Human => prove::report_human(&report),
    };
    if !write_out(&mut std::io::stdout().lock(), &text) {
        return ExitStatus::Error;
    }
    match report.verdict {
        Verdict::Proven => ExitStatus::Success,
        Verdict::Refuted { .. } => ExitStatus::Failure,
        Verdict::Unknown { .. } => ExitStatus::Unknown,
    }
}
