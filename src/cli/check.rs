//! `kycrules check`: evaluate applications and report decisions.

use super::progress::Progress;
use super::{ExitStatus, PolicyArgs, write_out};
use clap::{Args, ValueEnum};
use kycrules::batch;
use kycrules::date::Date;
use kycrules::eval::{DecisionKind, Options};
use kycrules::exec;
use kycrules::html::CheckReport;
use kycrules::input::{self, Group, GroupDoc, LineAt};
use kycrules::ir::RuleSet;
use kycrules::read::{Converted, line_to_record, to_record};
use kycrules::record::Record;
use kycrules::report::{self, JsonWriter, Outcome, Palette, Summary};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    // One self-contained page (inline CSS and SVG, nothing fetched).
    Html,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Read and convert the records, evaluate nothing, print only a count
    /// (the baseline of the end-to-end benchmark).
    #[arg(long = "parse-only", hide = true)]
    pub parse_only: bool,
    /// Show card and document numbers (fields marked `sensitive`) in full in
    /// messages; by default all but the last four characters are masked.
    #[arg(long = "show-pii")]
    pub show_pii: bool,
    /// Application files or directories; `-` (or nothing) reads stdin.
    pub inputs: Vec<PathBuf>,
}

/// How a batch is evaluated and reported: shared by `check` and `diff`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Report format (default: human on a terminal, json otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Message language (falls back to the policy's default language).
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// Evaluate as of this date, `YYYY-MM-DD` (default: today).
    #[arg(long = "as-of", value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// How to read stdin and files without a known extension (`auto`: told from the text).
    #[arg(long = "input-format", value_enum, default_value = "auto")]
    pub input_format: InputFormatArg,
    /// Worker threads, 1 to 4× the cores (default: all cores; one for files under 256 KiB).
    #[arg(long, short = 'j', value_parser = parse_jobs)]
    pub jobs: Option<usize>,
}

/// The most worker threads `--jobs` may ask for, per core: more only adds
/// threads that wait (and memory for their chunks).
pub const JOBS_PER_CORE: usize = 4;

/// `--jobs N`: at least 1, at most [`JOBS_PER_CORE`] × the cores.
pub fn parse_jobs(s: &str) -> Result<usize, String> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let max = cores.saturating_mul(JOBS_PER_CORE);
    match s.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{}` is not a number of worker threads from 1 to {max} ({JOBS_PER_CORE} per core, {cores} cores)",
            s.chars().take(40).collect::<String>()
        )),
    }
}

/// `--input-format`: how stdin and files without a known extension are read
/// (`auto`: told from the text, see the README; the values are not
/// documented one by one, which keeps `--help` to one line per option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormatArg {
    Auto,
    Yaml,
    Json,
    Jsonl,
}

impl From<InputFormatArg> for input::InputFormat {
    fn from(f: InputFormatArg) -> Self {
        match f {
            InputFormatArg::Auto => input::InputFormat::Auto,
            InputFormatArg::Yaml => input::InputFormat::Yaml,
            InputFormatArg::Json => input::InputFormat::Json,
            InputFormatArg::Jsonl => input::InputFormat::Jsonl,
        }
    }
}

pub fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s).ok_or_else(|| format!("`{s}` is not a date `YYYY-MM-DD`"))
}

/// Writes bytes to stdout; `false` once the output is closed or failed.
fn write_bytes(out: &mut impl Write, bytes: &[u8]) -> bool {
    out.write_all(bytes).is_ok()
}

/// `--parse-only`: reads and converts every record, counts them; the same
/// pipeline as a check, without the rules.
fn parse_only(rs: &RuleSet, args: &CheckArgs, inputs: Vec<PathBuf>, as_of: Date) -> ExitStatus {
    let progress = Progress::start(&inputs);
    let units = input::read_groups_as(inputs, args.run.input_format.into(), batch::GROUP, batch::CHUNK_BYTES);
    let (mut records, mut errors) = (0usize, 0usize);
    let work = |_: &mut (), group: Group| {
        let (n, bytes) = (group.len(), group.size() as u64);
        let mut failed = 0;
        group.each(|doc| {
            let ok = match doc {
                // Recycled as `check` recycles it, so that this pass reads as `check` reads.
                GroupDoc::Line { text, .. } => line_to_record(rs, text, as_of).record.map(Record::recycle).is_ok(),
                GroupDoc::Unit(u) => to_record(rs, u, as_of).record.is_ok(),
            };
            failed += usize::from(!ok);
        });
        (n, failed, bytes)
    };
    let result = batch::ordered(
        units,
        batch::CHUNK,
        args.run.jobs,
        || (),
        work,
        |(n, failed, bytes)| {
            records += n;
            errors += failed;
            progress.records(n, bytes);
            true
        },
    );
    progress.finish();
    if let Err(e) = result {
        eprintln!("error: {e}");
        return ExitStatus::Error;
    }
    eprintln!("{records} records read, {errors} input errors");
    if errors > 0 {
        ExitStatus::Error
    } else {
        ExitStatus::Success
    }
}

/// The ids seen in a run, to warn about a repeated one. Ids are kept as 64-bit
/// hashes (8 bytes each, whatever the id's length) in a [`HashSeen`]; the first
/// few repeats are named on stderr, the rest only counted.
///
/// Two distinct ids with the same hash would be reported as a repeat: among a
/// million distinct ids the chance of any such false warning is about
/// n² / 2⁶⁵ ≈ 3·10⁻⁸ (10 million: 3·10⁻⁶). A repeat is never missed.
#[derive(Default)]
struct Ids {
    seen: HashSeen,
    repeated: u64,
}

/// Repeats named one by one on stderr; the rest are counted in the summary.
const NAMED_REPEATS: u64 = 20;

impl Ids {
    /// A 64-bit hash of the id: eight bytes at a time folded by a 128-bit
    /// multiply (as wyhash does), the length mixed in, and a final avalanche
    /// (MurmurHash3's), so that every bit of the result, the shard's top bits
    /// and [`near`]'s guess below them, depends on every byte. About a tenth
    /// of SipHash's work for an id of ten bytes; unkeyed as the standard
    /// library's `DefaultHasher::new()` was.
    fn hash(id: &str) -> u64 {
        const K0: u64 = 0xa076_1d64_78bd_642f;
        const K1: u64 = 0xe703_7ed1_a0b4_28db;
        let fold = |a: u64, b: u64| {
            let m = u128::from(a) * u128::from(b);
            (m as u64) ^ ((m >> 64) as u64)
        };
        let bytes = id.as_bytes();
        let mut h = fold(bytes.len() as u64 ^ K0, K1);
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            h = fold(
                h ^ u64::from_le_bytes(w.try_into().unwrap_or([0; 8])),
                K1 ^ K0.rotate_left(17),
            );
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            h = fold(h ^ u64::from_le_bytes(last) ^ K0, K1);
        }
        let mut x = h;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }

    fn add(&mut self, hash: u64, id: &str, source: impl std::fmt::Display) {
        if !self.seen.insert(hash) {
            self.repeated += 1;
            if self.repeated <= NAMED_REPEATS {
                eprintln!("warning: {source}: duplicate id `{id}` (an earlier record has it too)");
            } else if self.repeated == NAMED_REPEATS + 1 {
                eprintln!("warning: more duplicate ids follow; the summary counts them");
            }
        }
    }
}

/// A set of 64-bit hashes in about 8 bytes each, with no moment of doubled
/// memory: [`SHARDS`] shards by the hash's top bits, each a sorted array and a
/// short unsorted list of the latest hashes, sorted into the array when it
/// reaches a sixteenth of it (at least 32, at most 256). A `HashSet<u64>`
/// takes 16 – 32 bytes per hash with its load factor, and twice that while it
/// grows; the shards grow a little at a time.
struct HashSeen {
    shards: Vec<Shard>,
}

/// How many shards a [`HashSeen`] has (the top 10 bits of a hash choose one).
const SHARDS: usize = 1 << 10;

#[derive(Default, Clone)]
struct Shard {
    sorted: Vec<u64>,
    recent: Vec<u64>,
}

impl Default for HashSeen {
    fn default() -> Self {
        HashSeen {
            shards: vec![Shard::default(); SHARDS],
        }
    }
}

impl HashSeen {
    /// Adds `hash`; `false` when it was there already.
    fn insert(&mut self, hash: u64) -> bool {
        let top = usize::try_from(hash >> (64 - SHARDS.trailing_zeros())).unwrap_or(0);
        let Some(shard) = self.shards.get_mut(top) else {
            return true;
        };
        if shard.recent.contains(&hash) || near(&shard.sorted, hash) {
            return false;
        }
        shard.recent.push(hash);
        if shard.recent.len() >= (shard.sorted.len() / 16).clamp(32, 256) {
            shard.merge();
        }
        true
    }
}

/// Whether the sorted `hashes` of a shard hold `x`, looked for first where a
/// hash of its value lies when hashes are spread evenly (the bits below the
/// shard's as a fraction of the length), then in widening steps: one or two
/// cache lines per look-up where a binary search over the shard reads ten.
fn near(hashes: &[u64], x: u64) -> bool {
    let n = hashes.len();
    let fraction = u128::from(x << SHARDS.trailing_zeros());
    let guess = usize::try_from((fraction * n as u128) >> 64).unwrap_or(0);
    let at = |i: usize| hashes.get(i).copied().unwrap_or(u64::MAX);
    let (mut lo, mut hi) = (guess.min(n.saturating_sub(1)), guess.min(n.saturating_sub(1)));
    let mut step = 8;
    // Widen [lo, hi) until it must hold `x` if anything does.
    while lo > 0 && at(lo) > x {
        lo = lo.saturating_sub(step);
        step *= 2;
    }
    step = 8;
    while hi < n && at(hi) < x {
        hi = (hi + step).min(n);
        step *= 2;
    }
    hashes
        .get(lo..(hi + 1).min(n))
        .is_some_and(|window| window.binary_search(&x).is_ok())
}

impl Shard {
    /// Sorts `recent` into `sorted`, in place from the back (neither holds a
    /// hash of the other).
    fn merge(&mut self) {
        self.recent.sort_unstable();
        let (old, new) = (self.sorted.len(), self.recent.len());
        self.sorted.reserve_exact(new);
        self.sorted.resize(old + new, 0);
        let (mut i, mut j) = (old, new);
        for k in (0..old + new).rev() {
            let take_old = j == 0 || (i > 0 && self.sorted.get(i - 1) > self.recent.get(j - 1));
            let v = if take_old {
                i -= 1;
                self.sorted.get(i).copied()
            } else {
                j -= 1;
                self.recent.get(j).copied()
            };
            if let (Some(v), Some(dst)) = (v, self.sorted.get_mut(k)) {
                *dst = v;
            }
            if j == 0 {
                break; // the rest of `sorted` is in place already
            }
        }
        self.recent.clear();
    }
}

/// What the workers hand back for a group of records.
struct Done {
    counts: Summary,
    text: Vec<u8>,
    /// The size of the group's records as read, for the progress bar.
    bytes: u64,
    /// The records' ids and sources, for the duplicate-id check.
    ids: GroupIds,
    /// The group's part of the HTML page (`--format html` only).
    page: Option<CheckReport>,
}

/// The ids of a group's records: each id's hash, with its text and its
/// record's source kept in one buffer (two allocations per group, not two per
/// record), to name a repeated id. A JSON Lines record's source is kept as its
/// file's name (once per run of records from one file) and its line number.
#[derive(Default)]
struct GroupIds {
    ids: Vec<GroupId>,
    text: String,
}

/// A record's id in [`GroupIds::text`], and its source.
struct GroupId {
    hash: u64,
    /// `text[source.0..source.1]`, followed by `:line` when `line` is not 0.
    source: (usize, usize),
    line: usize,
    id: (usize, usize),
}

/// A record's source as [`GroupIds`] gives it back: `label` or `label:line`.
#[derive(Debug, PartialEq, Eq)]
struct SourceText<'a> {
    label: &'a str,
    line: usize,
}

impl std::fmt::Display for SourceText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            0 => f.write_str(self.label),
            n => write!(f, "{}:{n}", self.label),
        }
    }
}

impl GroupIds {
    #[cfg(test)]
    fn with_capacity(records: usize) -> Self {
        let mut ids = GroupIds::default();
        ids.reserve(records);
        ids
    }

    /// Room for `records` more records (and ids of 16 bytes).
    fn reserve(&mut self, records: usize) {
        self.ids.reserve(records);
        self.text.reserve(records * 16);
    }

    fn clear(&mut self) {
        self.ids.clear();
        self.text.clear();
    }

    /// A record read from a document whose source is `source` in full.
    fn push(&mut self, id: &str, source: &str) {
        self.push_source(id, source, 0);
    }

    /// A record read from line `at.line` of `at.label`.
    fn push_line(&mut self, id: &str, at: LineAt<'_>) {
        self.push_source(id, at.label, at.line);
    }

    fn push_source(&mut self, id: &str, label: &str, line: usize) {
        let source = match self.ids.last() {
            Some(last) if line > 0 && last.line > 0 && self.text.get(last.source.0..last.source.1) == Some(label) => {
                last.source
            }
            _ => {
                let start = self.text.len();
                self.text.push_str(label);
                (start, self.text.len())
            }
        };
        let start = self.text.len();
        self.text.push_str(id);
        self.ids.push(GroupId {
            hash: Ids::hash(id),
            source,
            line,
            id: (start, self.text.len()),
        });
    }

    /// Each id's hash, id and source, in input order.
    fn iter(&self) -> impl Iterator<Item = (u64, &str, SourceText<'_>)> {
        self.ids.iter().map(|g| {
            let label = self.text.get(g.source.0..g.source.1).unwrap_or_default();
            let id = self.text.get(g.id.0..g.id.1).unwrap_or_default();
            (g.hash, id, SourceText { label, line: g.line })
        })
    }
}

/// A group's output buffers once written, kept for the next group: a worker
/// takes them back instead of allocating new ones (and the writing thread
/// frees nothing a worker made).
#[derive(Default)]
struct Spare(std::sync::Mutex<Vec<(Vec<u8>, GroupIds)>>);

impl Spare {
    /// The most buffers kept: more than are ever in flight at once.
    const MAX: usize = 64;
    /// Buffers larger than this are freed (a group with a huge record).
    const MAX_BYTES: usize = 1 << 20;

    /// Empty buffers, kept or new.
    fn take(&self) -> (Vec<u8>, GroupIds) {
        self.0.lock().ok().and_then(|mut v| v.pop()).unwrap_or_default()
    }

    /// Keeps written buffers for [`Spare::take`].
    fn put(&self, mut text: Vec<u8>, mut ids: GroupIds) {
        if text.capacity() > Self::MAX_BYTES || ids.text.capacity() > Self::MAX_BYTES {
            return;
        }
        text.clear();
        ids.clear();
        if let Ok(mut v) = self.0.lock()
            && v.len() < Self::MAX
        {
            v.push((text, ids));
        }
    }
}

/// Evaluates every record and writes its report, in input order: workers
/// convert, evaluate and render a group of records into one block of text;
/// this thread only writes. The summary, the number of records whose id
/// repeats an earlier one, and whether the output is still open.
fn report_all(
    rs: &RuleSet,
    inputs: Vec<PathBuf>,
    run: &RunArgs,
    opts: Options,
    format: Format,
    palette: &Palette,
    out: &mut impl Write,
) -> Result<(Summary, u64, bool, Option<CheckReport>), String> {
    let json = JsonWriter::new(rs);
    let program = exec::Program::new(rs);
    // Output buffers written: handed back by this thread to the workers.
    let spare = Spare::default();
    let work = |scratch: &mut exec::Scratch, group: Group| {
        let mut counts = Summary::default();
        let mut page = (format == Format::Html).then(|| CheckReport::new(rs));
        let (mut text, mut ids) = spare.take();
        text.reserve(group.len() * 768);
        ids.reserve(group.len());
        let bytes = group.size() as u64;
        group.each(|doc| {
            let Converted {
                source,
                id,
                record,
                as_of,
            } = match doc {
                // JSON lines: the source is written straight into the output.
                GroupDoc::Line { text: line, at } if format == Format::Json => {
                    let line = line_to_record(rs, line, opts.as_of);
                    let opts = Options {
                        as_of: line.as_of,
                        ..opts
                    };
                    let decision = match &line.record {
                        Ok(r) => Ok(exec::evaluate_in(&program, rs, r, opts, scratch)),
                        Err(e) => Err(e.as_str()),
                    };
                    counts.add(decision.as_ref().map_or(DecisionKind::Error, |d| d.decision));
                    json.write_at(
                        line.id(),
                        at.label,
                        at.line,
                        decision.as_ref().map_err(|e| *e),
                        &mut text,
                    );
                    text.push(b'\n');
                    if let Some(id) = line.id() {
                        ids.push_line(id, at);
                    }
                    // Its allocations serve the next record read on this thread.
                    if let Ok(record) = line.record {
                        record.recycle();
                    }
                    return;
                }
                GroupDoc::Line { text: line, at } => {
                    let line = line_to_record(rs, line, opts.as_of);
                    Converted {
                        source: at.to_string(),
                        id: line.id().map(str::to_owned),
                        record: line.record,
                        as_of: line.as_of,
                    }
                }
                GroupDoc::Unit(unit) => to_record(rs, unit, opts.as_of),
            };
            let opts = Options { as_of, ..opts };
            let o = Outcome {
                id,
                source,
                result: record.map(|r| exec::evaluate_in(&program, rs, &r, opts, scratch)),
            };
            counts.add(o.decision());
            match format {
                Format::Json => {
                    json.write(&o, &mut text);
                    text.push(b'\n');
                }
                Format::Human => text.extend_from_slice(report::human_block(rs, &o, palette).as_bytes()),
                Format::Html => {
                    if let Some(page) = page.as_mut() {
                        page.add(&o);
                    }
                }
            }
            if let Some(id) = &o.id {
                ids.push(id, &o.source);
            }
        });
        Done {
            counts,
            text,
            bytes,
            ids,
            page,
        }
    };
    let mut summary = Summary::default();
    let mut html = (format == Format::Html).then(|| CheckReport::new(rs));
    let mut seen = Ids::default();
    let mut open = true;
    let progress = Progress::start(&inputs);
    let jobs = jobs_for(&inputs, run.jobs);
    let groups = input::read_groups_as(inputs, run.input_format.into(), batch::GROUP, batch::CHUNK_BYTES);
    let result = batch::ordered(
        groups,
        batch::CHUNK,
        jobs,
        exec::Scratch::default,
        work,
        |done: Done| {
            for (total, n) in summary.counts.iter_mut().zip(done.counts.counts) {
                *total += n;
            }
            if let (Some(all), Some(part)) = (html.as_mut(), done.page) {
                all.merge(part);
            }
            for (hash, id, source) in done.ids.iter() {
                seen.add(hash, id, source);
            }
            progress.records(usize::try_from(done.counts.total()).unwrap_or(usize::MAX), done.bytes);
            progress.suspend(|| open = write_bytes(out, &done.text));
            spare.put(done.text, done.ids);
            open
        },
    );
    progress.finish();
    result.map(|()| (summary, seen.repeated, open, html))
}

/// `, 2 duplicate ids` for the summary, or nothing.
fn repeats_note(repeated: u64) -> String {
    match repeated {
        0 => String::new(),
        1 => ", 1 duplicate id".to_owned(),
        n => format!(", {n} duplicate ids"),
    }
}

/// Input files smaller than this in all are checked on one thread unless
/// `--jobs` says otherwise: starting worker threads would cost more than they
/// save (a few hundred records take a few milliseconds).
const ONE_THREAD_BELOW: u64 = 256 << 10;

/// The worker threads for `inputs`: `jobs` when given; one when the inputs
/// are regular files under [`ONE_THREAD_BELOW`] bytes in all; else the
/// default (all cores). Stdin and directories are of unknown size.
pub(super) fn jobs_for(inputs: &[PathBuf], jobs: Option<usize>) -> Option<usize> {
    jobs.or_else(|| {
        let mut total = 0u64;
        for path in inputs {
            let meta = std::fs::metadata(path).ok().filter(std::fs::Metadata::is_file)?;
            total = total.saturating_add(meta.len());
        }
        (total < ONE_THREAD_BELOW).then_some(1)
    })
}

pub fn run(args: &CheckArgs) -> ExitStatus {
    let Some((mut rs, _sources)) = args.policy.load() else {
        return ExitStatus::Error;
    };
    rs.show_pii = args.show_pii;
    let stdout_tty = std::io::stdout().is_terminal();
    let format = args
        .run
        .format
        .unwrap_or(if stdout_tty { Format::Human } else { Format::Json });
    let palette = if args.policy.styled(stdout_tty) {
        Palette::colored()
    } else {
        Palette::default()
    };
    let opts = Options {
        lang: rs.language(&args.run.lang),
        as_of: args.run.as_of.unwrap_or_else(Date::today),
    };
    super::warn_missing_language(&rs, &args.run.lang);
    let inputs = super::inputs_or_stdin(&args.inputs);
    if args.parse_only {
        return parse_only(&rs, args, inputs, opts.as_of);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let (summary, repeated, mut open, html) = match report_all(&rs, inputs, &args.run, opts, format, &palette, &mut out)
    {
        Ok(done) => done,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitStatus::Error;
        }
    };
    if open && format == Format::Human {
        let line = summary.line(&palette);
        let line = format!("{}{}\n", line.trim_end_matches('\n'), repeats_note(repeated));
        open = write_out(&mut out, &line);
    } else if repeated > 0 {
        eprintln!(
            "warning: {repeated} duplicate id{} in this run",
            if repeated == 1 { "" } else { "s" }
        );
    }
    if let Some(page) = html
        && open
    {
        let as_of = opts.as_of.to_string();
        open = write_out(
            &mut out,
            &page.render(&rs, &args.policy.origin(), &as_of, &args.run.lang),
        );
    }
    if open {
        let _ = out.flush();
    }
    if summary.count(DecisionKind::Error) > 0 {
        ExitStatus::Error
    } else if summary.count(DecisionKind::Reject) > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

#[cfg(test)]
mod seen {
    use super::*;
    use std::collections::HashSet;

    /// A small deterministic generator (xorshift*), for test hashes.
    fn hashes(seed: u64, n: usize) -> impl Iterator<Item = u64> {
        let mut x = seed.max(1);
        (0..n).map(move |_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        })
    }

    #[test]
    fn agrees_with_a_hash_set_on_new_and_repeated_hashes() {
        let (mut seen, mut set) = (HashSeen::default(), HashSet::new());
        // 200,000 draws of which about a third repeat an earlier one.
        for (i, h) in hashes(7, 200_000).enumerate() {
            let h = if i % 3 == 2 { h % 50_000 } else { h };
            assert_eq!(seen.insert(h), set.insert(h), "hash {h:#x} (draw {i})");
        }
        for h in &set {
            assert!(!seen.insert(*h), "every hash stays found: {h:#x}");
        }
    }

    #[test]
    fn one_shard_holding_everything_merges_and_stays_sorted() {
        let mut seen = HashSeen::default();
        // All in shard 0 (top bits zero), in a scrambled order, then again.
        let values: Vec<u64> = hashes(3, 20_000).map(|h| h >> 20).collect();
        let distinct = values.iter().collect::<HashSet<_>>().len();
        let fresh = values.iter().filter(|&&h| seen.insert(h)).count();
        assert_eq!(fresh, distinct);
        assert!(values.iter().all(|&h| !seen.insert(h)));
        let shard = &seen.shards[0];
        assert!(shard.sorted.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        assert_eq!(shard.sorted.len() + shard.recent.len(), distinct);
        assert!(shard.recent.len() <= 256);
    }

    #[test]
    fn near_finds_every_member_and_no_other_however_skewed() {
        for shift in [0, 10, 30, 54] {
            let mut sorted: Vec<u64> = hashes(11, 3_000).map(|h| (h >> shift) | 1).collect();
            sorted.sort_unstable();
            sorted.dedup();
            for &x in &sorted {
                assert!(near(&sorted, x), "member {x:#x} (shift {shift})");
                assert!(!near(&sorted, x - 1) || sorted.binary_search(&(x - 1)).is_ok());
            }
            assert!(!near(&sorted, 0) && !near(&[], 5));
        }
    }

    #[test]
    fn id_hashes_differ_and_spread_over_the_shards() {
        let ids: Vec<String> = (0..200_000)
            .map(|i| format!("G-{i:07}"))
            .chain((1..1000).map(|i| "x".repeat(i)))
            .chain(["", "\0", "\0\0", "a", "a\0", "中文"].map(str::to_owned))
            .collect();
        let hashes: HashSet<u64> = ids.iter().map(|id| Ids::hash(id)).collect();
        assert_eq!(hashes.len(), ids.len(), "no two of these ids share a hash");
        let mut per_shard = vec![0usize; SHARDS];
        for h in ids.iter().take(200_000).map(|id| Ids::hash(id)) {
            per_shard[(h >> (64 - SHARDS.trailing_zeros())) as usize] += 1;
        }
        // 195 per shard on average: every shard within a wide margin of it.
        assert!(per_shard.iter().all(|&n| (100..300).contains(&n)), "{per_shard:?}");
    }

    #[test]
    fn the_extreme_hashes_are_kept() {
        let mut seen = HashSeen::default();
        for h in [0, u64::MAX, 1, u64::MAX - 1] {
            assert!(seen.insert(h));
            assert!(!seen.insert(h));
        }
    }

    #[test]
    fn group_ids_give_back_each_id_with_its_source() {
        let mut ids = GroupIds::with_capacity(2);
        ids.push("A-1", "a.jsonl:1");
        ids.push("", "b.yaml");
        ids.push("中文", "c.jsonl:3");
        ids.push_line(
            "B-2",
            LineAt {
                label: "d.jsonl",
                line: 7,
            },
        );
        ids.push_line(
            "B-3",
            LineAt {
                label: "d.jsonl",
                line: 9,
            },
        );
        ids.push_line(
            "B-4",
            LineAt {
                label: "e.jsonl",
                line: 1,
            },
        );
        let got: Vec<_> = ids.iter().map(|(h, id, source)| (h, id, source.to_string())).collect();
        let want = [
            ("A-1", "a.jsonl:1"),
            ("", "b.yaml"),
            ("中文", "c.jsonl:3"),
            ("B-2", "d.jsonl:7"),
            ("B-3", "d.jsonl:9"),
            ("B-4", "e.jsonl:1"),
        ];
        let want: Vec<_> = want.iter().map(|&(id, s)| (Ids::hash(id), id, s.to_owned())).collect();
        assert_eq!(got, want);
        assert_eq!(
            ids.text.matches("d.jsonl").count(),
            1,
            "a file's name kept once per run of its lines"
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod jobs {
    use super::*;

    #[test]
    fn small_files_are_checked_on_one_thread_unless_told() {
        let dir = std::env::temp_dir().join(format!("kycrules-jobs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let small = dir.join("small.jsonl");
        std::fs::write(&small, b"{}\n").unwrap();
        let large = dir.join("large.jsonl");
        std::fs::File::create(&large)
            .unwrap()
            .set_len(ONE_THREAD_BELOW)
            .unwrap();
        assert_eq!(jobs_for(std::slice::from_ref(&small), None), Some(1));
        assert_eq!(jobs_for(std::slice::from_ref(&small), Some(3)), Some(3), "--jobs wins");
        assert_eq!(jobs_for(std::slice::from_ref(&large), None), None, "large: all cores");
        assert_eq!(jobs_for(&[small.clone(), large], None), None, "sizes add up");
        assert_eq!(jobs_for(&[PathBuf::from("-")], None), None, "stdin: unknown size");
        assert_eq!(
            jobs_for(std::slice::from_ref(&dir), None),
            None,
            "a directory: unknown size"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
