//! kycrules: a declarative rules engine for payment-platform onboarding.

pub mod ast;
pub mod batch;
pub mod chars;
pub mod charset;
pub mod cli;
pub mod compile;
pub mod date;
pub mod decimal;
pub mod diag;
pub mod direct;
pub mod eval;
pub mod r#gen;
pub mod input;
pub mod ir;
pub mod patch;
pub mod policy;
pub mod record;
pub mod report;
pub mod source;
pub mod syntax;
pub mod text;
