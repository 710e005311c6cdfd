//! Embedding kycrules: compile the shipped policy and decide one application.

use kycrules::{date::Date, eval, input, policy};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sources = policy::embedded();
    let compiled = policy::build(&sources);
    let Some(rules) = compiled.ruleset else {
        eprint!(
            "{}",
            kycrules::diag::render_human(&compiled.diagnostics, &sources, false)
        );
        return Err("the policy does not compile".into());
    };
    let opts = eval::Options {
        lang: rules.language("en"),
        as_of: Date::today(),
    };
    let json_text = r#"{"id":"E-1","applicant":{"name":"Li Na","phone":"13912345678"},
        "documents":[{"kind":"permanent_residence_permit"}],
        "bank_card":{"bank":"招行","card_type":"savings","holder_name":"Li Na"}}"#;
    let value: serde_json::Value = serde_json::from_str(json_text)?;
    let record = input::convert(&value, &rules.schema, &rules.banks, opts.as_of)?;
    let decision = eval::evaluate(&rules, &record, opts);
    println!("E-1: {}", decision.decision.as_str());
    for v in &decision.violations {
        println!("  {}: {}", rules.rules[v.rule].id, v.message);
    }
    Ok(())
}
