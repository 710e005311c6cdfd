//! `kycrules schema`: the policy's application schema as JSON Schema (draft
//! 2020-12; see [`kycrules::schema_json`]).

use super::{ExitStatus, PolicyArgs, write_out};
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub struct SchemaArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
}

pub fn run(args: &SchemaArgs) -> ExitStatus {
    let Some((rs, _sources)) = args.policy.load() else {
        return ExitStatus::Error;
    };
    let schema = kycrules::schema_json::application_schema(&rs);
    let text = match serde_json::to_string_pretty(&schema) {
        Ok(t) => t + "\n",
        Err(e) => {
            eprintln!("error: cannot write the schema: {e}");
            return ExitStatus::Error;
        }
    };
    let mut out = std::io::stdout().lock();
    if write_out(&mut out, &text) {
        let _ = out.flush();
    }
    ExitStatus::Success
}
