//! A policy directory as the server sees it: every `.rules` file in it, open
//! in the editor or only on disk, compiled together; the analysis of the last
//! compile; the per-rule counts the code lenses show.

use crate::index::Index;
use crate::text::{Lines, path_to_uri};
use kycrules::ast;
use kycrules::date::Date;
use kycrules::diag::{self, Diagnostic, Severity};
use kycrules::ir::RuleSet;
use kycrules::source::SourceMap;
use kycrules::testing::{self, TestFile};
use kycrules::{DecideOptions, Policy};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The largest sample file read for the "fires on K% of the sample" lens.
pub const MAX_SAMPLE_BYTES: u64 = 64 << 20;
/// The most records of a sample evaluated.
pub const MAX_SAMPLE_RECORDS: usize = 100_000;
/// How many generated records stand in for a sample when none is configured.
pub const GENERATED_SAMPLE: usize = 1_000;
/// The largest test file read.
pub const MAX_TEST_FILE: u64 = 16 << 20;
/// The largest document compiled (the engine's limit for a policy file); a
/// larger one gets one error instead.
pub const MAX_DOCUMENT: usize = kycrules::policy::MAX_POLICY_FILE as usize;
/// The most `.rules` files of one policy directory.
pub const MAX_FILES: usize = 1_000;

#[derive(Debug)]
pub struct FileState {
    pub path: PathBuf,
    pub uri: String,
    pub text: Arc<str>,
    pub lines: Lines,
    /// The editor's version when the file is open.
    pub version: Option<i64>,
    /// Why the file's text is not compiled (too large, unreadable): it then counts as empty.
    pub problem: Option<String>,
}

impl FileState {
    pub fn new(path: PathBuf, text: Arc<str>, version: Option<i64>) -> Self {
        let mut f = FileState {
            uri: path_to_uri(&path),
            lines: Lines::new(""),
            path,
            text: Arc::from(""),
            version,
            problem: None,
        };
        f.set(text, version);
        f
    }

    fn set(&mut self, text: Arc<str>, version: Option<i64>) {
        self.version = version;
        if text.len() > MAX_DOCUMENT {
            self.problem = Some(format!(
                "the file has {} bytes, more than the {MAX_DOCUMENT} a policy file may have: it is not compiled",
                text.len()
            ));
            self.text = Arc::from("");
        } else {
            self.problem = None;
            self.text = text;
        }
        self.lines = Lines::new(&self.text);
    }
}

/// The result of compiling and linting the policy.
pub struct Analysis {
    pub sources: SourceMap,
    /// Per file, its syntax tree when it parsed.
    pub asts: Vec<Option<ast::File>>,
    pub diagnostics: Vec<Diagnostic>,
    pub index: Index,
    /// The policy, when it compiled without errors.
    pub policy: Option<Policy>,
}

/// What the code lenses show, per rule id: computed on open and on save.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    /// (cases that fire the rule, per rule id), and the number of cases; `None` without tests.
    pub tests: Option<(std::collections::BTreeMap<String, usize>, usize)>,
    /// (records that fire the rule, per rule id), the number of records, and what the sample is.
    pub sample: Option<(std::collections::BTreeMap<String, usize>, usize, String)>,
}

pub struct Project {
    pub dir: PathBuf,
    pub files: Vec<FileState>,
    pub analysis: Option<Analysis>,
    pub counts: Counts,
    /// Whether `counts` was computed since the project was loaded.
    pub counted: bool,
    /// The URIs diagnostics were last published for (to clear removed files).
    pub published: Vec<String>,
}

impl Project {
    /// Reads every `.rules` file under `dir`.
    pub fn load(dir: &Path) -> Project {
        let mut files = Vec::new();
        for path in kycrules::files::collect(dir, &["rules"]).into_iter().take(MAX_FILES) {
            match kycrules::files::read_file(&path, kycrules::policy::MAX_POLICY_FILE) {
                Ok(text) => files.push(FileState::new(path, text.into(), None)),
                Err(e) => {
                    let mut f = FileState::new(path, Arc::from(""), None);
                    f.problem = Some(format!("cannot read the file: {e}"));
                    files.push(f);
                }
            }
        }
        Project {
            dir: dir.to_path_buf(),
            files,
            analysis: None,
            counts: Counts::default(),
            counted: false,
            published: Vec::new(),
        }
    }

    /// Re-reads the files the editor does not hold open (they may have changed
    /// on disk) and picks up `.rules` files added or removed since.
    pub fn reload_disk(&mut self) {
        let on_disk: Vec<PathBuf> = kycrules::files::collect(&self.dir, &["rules"])
            .into_iter()
            .take(MAX_FILES)
            .collect();
        self.files.retain(|f| f.version.is_some() || on_disk.contains(&f.path));
        for path in on_disk {
            if self.files.iter().any(|f| f.path == path && f.version.is_some()) {
                continue;
            }
            match kycrules::files::read_file(&path, kycrules::policy::MAX_POLICY_FILE) {
                Ok(text) => self.set_text(&path, text.into(), None),
                Err(e) => {
                    self.set_text(&path, Arc::from(""), None);
                    if let Some(f) = self.files.iter_mut().find(|f| f.path == path) {
                        f.problem = Some(format!("cannot read the file: {e}"));
                    }
                }
            }
        }
    }

    pub fn file(&self, path: &Path) -> Option<(usize, &FileState)> {
        self.files.iter().enumerate().find(|(_, f)| f.path == path)
    }

    /// Sets a file's text (adding the file if it is new), keeping the files sorted.
    pub fn set_text(&mut self, path: &Path, text: Arc<str>, version: Option<i64>) {
        match self.files.iter_mut().find(|f| f.path == path) {
            Some(f) => f.set(text, version),
            None => {
                self.files.push(FileState::new(path.to_path_buf(), text, version));
                self.files.sort_by(|a, b| a.path.cmp(&b.path));
            }
        }
    }

    /// Parses, compiles and lints every file.
    pub fn analyze(&mut self) {
        let mut sources = SourceMap::default();
        for f in &self.files {
            let name = f
                .path
                .strip_prefix(&self.dir)
                .unwrap_or(&f.path)
                .to_string_lossy()
                .replace('\\', "/");
            sources.add(name, f.text.clone());
        }
        let for_thread = sources.clone();
        let (asts, ruleset, diagnostics) = kycrules::policy::with_large_stack(move || analyze(&for_thread));
        let index = {
            let parsed: Vec<&ast::File> = asts.iter().flatten().collect();
            Index::new(&parsed, &sources)
        };
        let policy = ruleset.map(|rs| {
            let warnings = diagnostics.clone();
            Policy::new(rs, sources.clone(), warnings)
        });
        self.analysis = Some(Analysis {
            sources,
            asts,
            diagnostics,
            index,
            policy,
        });
    }

    /// `textDocument/publishDiagnostics` parameters for every file of the policy.
    pub fn diagnostics(&self) -> Vec<Value> {
        let Some(a) = &self.analysis else {
            return Vec::new();
        };
        let mut per_file: Vec<Vec<Value>> = self
            .files
            .iter()
            .map(|f| match &f.problem {
                Some(p) => vec![json!({
                    "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                    "severity": 1,
                    "code": diag::READ,
                    "source": "kycrules",
                    "message": p,
                })],
                None => Vec::new(),
            })
            .collect();
        for d in &a.diagnostics {
            let file = d.span.map_or(0, |s| s.file as usize);
            let (Some(f), Some(out)) = (self.files.get(file), per_file.get_mut(file)) else {
                continue;
            };
            out.push(self.diagnostic(d, f));
        }
        self.files
            .iter()
            .zip(per_file)
            .map(|(f, diags)| {
                let mut p = json!({"uri": f.uri, "diagnostics": diags});
                if let Some(v) = f.version {
                    p["version"] = json!(v);
                }
                p
            })
            .collect()
    }

    fn diagnostic(&self, d: &Diagnostic, f: &FileState) -> Value {
        let range = match d.span {
            Some(s) => f.lines.range(&f.text, s),
            None => json!({"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}),
        };
        let mut message = d.message.clone();
        if let Some(l) = &d.label {
            message.push_str(&format!(": {l}"));
        }
        if let Some(h) = &d.help {
            message.push_str(&format!("\nhelp: {h}"));
        }
        let related: Vec<Value> = d
            .secondary
            .iter()
            .filter_map(|(s, label)| {
                let other = self.files.get(s.file as usize)?;
                Some(json!({
                    "location": {"uri": other.uri, "range": other.lines.range(&other.text, *s)},
                    "message": label,
                }))
            })
            .collect();
        let mut v = json!({
            "range": range,
            "severity": if d.severity == Severity::Error { 1 } else { 2 },
            "code": d.code,
            "source": "kycrules",
            "message": message,
        });
        if let Some(doc) = diag::CODES.iter().find(|c| c.code == d.code) {
            // `kycrules codes <CODE>` prints the same explanation, example and fix;
            // hovering the diagnostic's range shows them too.
            v["data"] = json!({
                "title": doc.title,
                "explanation": doc.explanation,
                "fix": doc.fix,
                "command": format!("kycrules codes {}", d.code),
            });
        }
        if !related.is_empty() {
            v["relatedInformation"] = json!(related);
        }
        v
    }

    /// Recomputes the code lens counts: the policy's tests and the sample.
    pub fn count(&mut self, sample: Option<&Path>) {
        let Some(policy) = self.analysis.as_ref().and_then(|a| a.policy.clone()) else {
            return;
        };
        let rs = policy.ruleset();
        let tests = self.test_files(rs).ok().filter(|f| !f.is_empty()).map(|files| {
            let report = testing::run(rs, &files, Date::today());
            let per_rule = report
                .coverage
                .rules
                .iter()
                .filter_map(|c| rs.rules.get(c.rule).map(|r| (r.id.clone(), c.fired)))
                .collect();
            (per_rule, report.results.len())
        });
        let sample = sample_counts(&policy, sample);
        self.counts = Counts { tests, sample };
    }

    /// The test files next to the policy (`tests/*.yaml`), parsed; their errors otherwise.
    pub fn test_files(&self, rs: &RuleSet) -> Result<Vec<TestFile>, Vec<testing::TestError>> {
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for path in test_paths(&self.dir) {
            let name = path.to_string_lossy().replace('\\', "/");
            match kycrules::files::read_file(&path, MAX_TEST_FILE) {
                Ok(text) => match testing::parse(rs, &name, &text) {
                    Ok(t) => files.push(t),
                    Err(mut e) => errors.append(&mut e),
                },
                Err(e) => errors.push(testing::TestError {
                    file: name,
                    line: None,
                    message: format!("cannot read the file: {e}"),
                    help: None,
                }),
            }
        }
        if errors.is_empty() { Ok(files) } else { Err(errors) }
    }
}

/// The test files of a policy directory: `tests/*.yaml` and `*.yml`.
pub fn test_paths(dir: &Path) -> Vec<PathBuf> {
    let tests = dir.join("tests");
    if tests.is_dir() {
        kycrules::files::collect(&tests, &["yaml", "yml"])
    } else {
        Vec::new()
    }
}

fn sample_counts(
    policy: &Policy,
    sample: Option<&Path>,
) -> Option<(std::collections::BTreeMap<String, usize>, usize, String)> {
    let rs = policy.ruleset();
    let (lines, what): (Vec<String>, String) = match sample {
        Some(path) => {
            let text = kycrules::files::read_file(path, MAX_SAMPLE_BYTES).ok()?;
            let lines = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .take(MAX_SAMPLE_RECORDS)
                .map(str::to_owned)
                .collect();
            (
                lines,
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        }
        None => {
            let mut g = kycrules::r#gen::Generator::new(rs, 42);
            let lines = (0..GENERATED_SAMPLE)
                .map(|_| g.next_record(kycrules::r#gen::Format::Jsonl))
                .collect();
            (lines, format!("{GENERATED_SAMPLE} generated records"))
        }
    };
    let opts = DecideOptions::default();
    let mut counts: std::collections::BTreeMap<String, usize> = rs.rules.iter().map(|r| (r.id.clone(), 0)).collect();
    let mut invalid = 0usize;
    for (i, line) in lines.iter().enumerate() {
        let decided = policy.decide_json(line.trim_end().as_bytes(), &format!("sample:{}", i + 1), &opts);
        if decided.outcome().result.is_err() {
            invalid += 1;
        }
        if let Ok(d) = &decided.outcome().result {
            for v in &d.violations {
                if let Some(r) = rs.rules.get(v.rule)
                    && let Some(c) = counts.get_mut(&r.id)
                {
                    *c += 1;
                }
            }
        }
    }
    let what = match invalid {
        0 => what,
        n => format!("{what}, {n} not valid applications"),
    };
    Some((counts, lines.len(), what))
}

type Analyzed = (Vec<Option<ast::File>>, Option<RuleSet>, Vec<Diagnostic>);

/// Parses every file, compiles what parsed, and lints a policy without errors.
fn analyze(sources: &SourceMap) -> Analyzed {
    let mut parsed = Vec::new();
    let mut parses = Vec::new();
    let mut diags = Vec::new();
    for (i, src) in sources.files.iter().enumerate() {
        match kycrules::syntax::parse(u32::try_from(i).unwrap_or(u32::MAX), &src.text) {
            Ok(f) => {
                parsed.push(f);
                parses.push(true);
            }
            Err(mut d) => {
                diags.append(&mut d);
                parses.push(false);
            }
        }
    }
    let syntax_errors = !diags.is_empty();
    let compiled = kycrules::compile::compile(&parsed, sources);
    let mut ruleset = None;
    if syntax_errors {
        // A file that did not parse may hold the header or schema: no news.
        diags.extend(compiled.diagnostics.into_iter().filter(|d| d.span.is_some()));
    } else {
        diags.extend(compiled.diagnostics);
        if let Some(rs) = compiled.ruleset
            && !diags.iter().any(Diagnostic::is_error)
        {
            diags.extend(kycrules::lint::lint(&parsed, &rs, sources));
            ruleset = Some(rs);
        }
    }
    diag::sort(&mut diags);
    let mut parsed = parsed.into_iter();
    let asts = parses
        .into_iter()
        .map(|ok| if ok { parsed.next() } else { None })
        .collect();
    (asts, ruleset, diags)
}
