//! kycrules: a declarative rules engine for payment-platform onboarding.
//!
//! Compliance staff write a policy in the kycrules language; the engine
//! compiles it and decides applications against it. The public API is small:
//!
//! - [`Policy`]: load a policy ([`Policy::load`], [`Policy::shipped`]) with its
//!   diagnostics ([`PolicyError`]);
//! - [`Policy::decide_json`], [`Policy::decide_value`], [`Policy::decide_yaml`],
//!   [`Policy::decide_batch`]: decide applications;
//! - [`Policy::json_line`]: the decision as the JSON line `kycrules check`
//!   prints, byte for byte.
//!
//! The modules below the facade are the engine's internals, used by its own
//! fronts and tools; they are hidden from the documentation and carry no
//! stability promise.

mod api;
#[doc(hidden)]
pub mod html;

pub use api::{DecideOptions, Decided, DecisionKind, Policy, PolicyError};
pub use date::Date;
pub use diag::Diagnostic;

#[doc(hidden)]
pub mod ast;
#[doc(hidden)]
pub mod batch;
#[doc(hidden)]
pub mod chars;
#[doc(hidden)]
pub mod charset;
#[doc(hidden)]
pub mod compile;
#[doc(hidden)]
pub mod date;
#[doc(hidden)]
pub mod decimal;
#[doc(hidden)]
pub mod diag;
#[doc(hidden)]
pub mod diff;
#[doc(hidden)]
pub mod direct;
#[doc(hidden)]
pub mod eval;
#[doc(hidden)]
pub mod exec;
#[doc(hidden)]
pub mod explain;
#[doc(hidden)]
pub mod files;
#[doc(hidden)]
pub mod fmt;
#[doc(hidden)]
pub mod r#gen;
#[doc(hidden)]
pub mod input;
#[doc(hidden)]
pub mod ir;
#[doc(hidden)]
pub mod lint;
#[doc(hidden)]
pub mod patch;
#[doc(hidden)]
pub mod policy;
#[doc(hidden)]
pub mod prove;
#[doc(hidden)]
pub mod read;
#[doc(hidden)]
pub mod record;
#[doc(hidden)]
pub mod report;
#[doc(hidden)]
pub mod schema_json;
#[doc(hidden)]
pub mod source;
#[doc(hidden)]
pub mod syntax;
#[doc(hidden)]
pub mod testing;
#[doc(hidden)]
pub mod text;
