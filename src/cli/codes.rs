//! `kycrules codes [CODE]`: what a diagnostic code means, an example, the fix.

use super::{ExitStatus, write_out};
use clap::Args;
use kycrules::diag::CODES;
use std::fmt::Write as _;

#[derive(Args, Debug)]
pub struct CodesArgs {
    /// A code such as `E0020` or `W0005` (any case); without one, every code is listed.
    pub code: Option<String>,
}

pub fn run(args: &CodesArgs) -> ExitStatus {
    let mut text = String::new();
    match &args.code {
        None => {
            for c in CODES {
                let _ = writeln!(text, "{}  {}", c.code, c.title);
            }
        }
        Some(wanted) => {
            let wanted = wanted.trim().to_ascii_uppercase();
            let Some(c) = CODES.iter().find(|c| c.code == wanted) else {
                let hint = kycrules::compile::suggest(&wanted, CODES.iter().map(|c| c.code));
                eprintln!("error: no diagnostic has the code `{wanted}`");
                match hint {
                    Some(h) => eprintln!(" = help: did you mean `{h}`?"),
                    None => eprintln!(" = help: `kycrules codes` lists every code"),
                }
                return ExitStatus::Error;
            };
            let _ = write!(
                text,
                "{} — {}\n\n{}\n\nExample:\n\n    {}\n\nFix: {}\n",
                c.code, c.title, c.explanation, c.example, c.fix
            );
        }
    }
    let mut out = std::io::stdout().lock();
    write_out(&mut out, &text);
    ExitStatus::Success
}
