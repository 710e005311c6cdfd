//! Where the parts of a test file are: line numbers for reports and errors.
//!
//! The YAML parser gives values, not places, so a light scan of the file's
//! block layout finds the line of each case (its `-`), of each base, and of
//! each key in a case. A part written in flow style (`cases: [...]`,
//! `- {name: ..}`) is placed at the line of the nearest part the scan found.
//! Lines are 1-based.

/// The block layout of one test file.
pub struct Outline<'a> {
    lines: Vec<&'a str>,
}

/// The lines of one block entry: a case or a base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// 0-based index of the entry's first line.
    start: usize,
    /// 0-based index one past its last line.
    end: usize,
    /// The column of the entry's keys.
    column: usize,
}

impl Entry {
    /// The entry's 1-based line.
    pub fn line(&self) -> usize {
        self.start + 1
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Whether a line holds YAML content (not blank, not a comment, not a document marker).
fn is_content(line: &str) -> bool {
    let t = line.trim();
    !(t.is_empty() || t.starts_with('#') || (indent(line) == 0 && (t == "---" || t == "...")))
}

/// Whether a line (from its indentation on) opens a sequence item: `-` or `- ...`.
fn is_dash(line: &str) -> bool {
    let t = line.trim_start_matches(' ');
    t == "-" || t.starts_with("- ")
}

/// The key a line (from `column` on) starts with, if it is `key:`, `"key":` or `'key':`.
fn key_at(line: &str, column: usize) -> Option<&str> {
    let rest = line.get(column..)?;
    if rest.starts_with(' ') {
        return None;
    }
    let (key, after) = match rest.chars().next()? {
        q @ ('"' | '\'') => {
            let body = rest.get(1..)?;
            let close = body.find(q)?;
            (body.get(..close)?, body.get(close + 1..)?)
        }
        _ => {
            let colon = rest.find(':')?;
            (rest.get(..colon)?.trim_end(), rest.get(colon..)?)
        }
    };
    let after = after.strip_prefix(':')?;
    (after.is_empty() || after.starts_with([' ', '\t'])).then_some(key)
}

impl<'a> Outline<'a> {
    pub fn new(text: &'a str) -> Self {
        Outline {
            lines: text.lines().collect(),
        }
    }

    /// The 0-based line of a top-level key.
    fn top(&self, key: &str) -> Option<usize> {
        self.lines
            .iter()
            .position(|l| is_content(l) && indent(l) == 0 && key_at(l, 0) == Some(key))
    }

    /// The 1-based line of a top-level key.
    pub fn top_line(&self, key: &str) -> Option<usize> {
        self.top(key).map(|i| i + 1)
    }

    /// The lines below a top-level key, up to the next top-level key.
    fn block(&self, key: &str) -> Option<(usize, usize)> {
        let start = self.top(key)? + 1;
        let end = (start..self.lines.len())
            .find(|&i| {
                let l = self.lines.get(i).copied().unwrap_or_default();
                is_content(l) && indent(l) == 0 && !is_dash(l)
            })
            .unwrap_or(self.lines.len());
        Some((start, end))
    }

    /// The items of the block sequence under a top-level key (`cases:`).
    pub fn items(&self, key: &str) -> Vec<Entry> {
        let Some((start, end)) = self.block(key) else {
            return Vec::new();
        };
        let is_item = |l: &str, col: usize| is_content(l) && indent(l) == col && l.get(col..).is_some_and(is_dash);
        let Some(col) = (start..end)
            .filter_map(|i| self.lines.get(i))
            .find(|l| is_content(l))
            .filter(|l| is_item(l, indent(l)))
            .map(|l| indent(l))
        else {
            return Vec::new();
        };
        let starts: Vec<usize> = (start..end)
            .filter(|&i| self.lines.get(i).is_some_and(|l| is_item(l, col)))
            .collect();
        let mut out = Vec::with_capacity(starts.len());
        for (n, &s) in starts.iter().enumerate() {
            let first = self.lines.get(s).copied().unwrap_or_default();
            let after_dash = first.get(col + 1..).unwrap_or_default();
            let column = col + 1 + indent(after_dash);
            let next = starts.get(n + 1).copied().unwrap_or(end);
            out.push(Entry {
                start: s,
                end: next,
                column,
            });
        }
        out
    }

    /// The entries of the block mapping under a top-level key (`bases:`), by name.
    pub fn entries(&self, key: &str) -> Vec<(&'a str, Entry)> {
        let Some((start, end)) = self.block(key) else {
            return Vec::new();
        };
        let Some(col) = (start..end)
            .filter_map(|i| self.lines.get(i))
            .find(|l| is_content(l))
            .map(|l| indent(l))
        else {
            return Vec::new();
        };
        let starts: Vec<(usize, &'a str)> = (start..end)
            .filter_map(|i| {
                let l = self.lines.get(i)?;
                (is_content(l) && indent(l) == col).then_some(())?;
                Some((i, key_at(l, col)?))
            })
            .collect();
        let mut out = Vec::with_capacity(starts.len());
        for (n, &(s, name)) in starts.iter().enumerate() {
            let next = starts.get(n + 1).map_or(end, |(i, _)| *i);
            out.push((
                name,
                Entry {
                    start: s,
                    end: next,
                    column: col + 2,
                },
            ));
        }
        out
    }

    /// The 1-based line of `key` in an entry, or the entry's own line.
    pub fn key_line(&self, entry: Entry, key: &str) -> usize {
        (entry.start..entry.end)
            .find(|&i| {
                self.lines
                    .get(i)
                    .is_some_and(|l| is_content(l) && key_at(l, entry.column) == Some(key))
            })
            .map_or(entry.line(), |i| i + 1)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# a suite
bases:
  ready:
    id: A
    applicant: { name: x }
  'other':
    id: B
cases:
  - name: first
    base: ready
    decision: accept

  # a comment
  -   name: second
      \"fires\": []
  - {name: third}
-x: not an item
";

    #[test]
    fn finds_cases_bases_and_keys() {
        let o = Outline::new(TEXT);
        assert_eq!(o.top_line("cases"), Some(8));
        let items = o.items("cases");
        assert_eq!(items.iter().map(Entry::line).collect::<Vec<_>>(), [9, 14, 16]);
        assert_eq!(o.key_line(items[0], "decision"), 11);
        assert_eq!(o.key_line(items[1], "name"), 14);
        assert_eq!(o.key_line(items[1], "fires"), 15);
        assert_eq!(o.key_line(items[2], "name"), 16, "flow style: the item's line");
        let bases: Vec<_> = o.entries("bases").iter().map(|(n, e)| (*n, e.line())).collect();
        assert_eq!(bases, [("ready", 3), ("other", 6)]);
    }

    #[test]
    fn items_at_column_zero_and_flow_sequences() {
        let o = Outline::new("cases:\n- name: a\n- name: b\nbases: {}\n");
        assert_eq!(o.items("cases").iter().map(Entry::line).collect::<Vec<_>>(), [2, 3]);
        assert!(Outline::new("cases: [{name: a}]\n").items("cases").is_empty());
        assert!(Outline::new("").items("cases").is_empty());
    }
}
