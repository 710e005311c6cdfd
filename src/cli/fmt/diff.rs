//! A unified line diff, for `fmt --check`.
//!
//! The longest common subsequence of the lines, after the common head and
//! tail are set aside; when the middle is too large for the quadratic table,
//! it is shown as removed and added whole (a correct diff, if not the
//! shortest).

/// Lines of context around each change.
const CONTEXT: usize = 3;
/// The largest LCS table computed, in cells.
const MAX_CELLS: usize = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same(usize, usize),
    Remove(usize),
    Add(usize),
}

/// The unified diff of `old` and `new` (empty if they are equal). Each line
/// of the result ends with `\n`.
pub fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = script(&a, &b);
    if ops.iter().all(|op| matches!(op, Op::Same(..))) {
        return String::new();
    }
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    for hunk in hunks(&ops) {
        render_hunk(&mut out, &ops, hunk, &a, &b);
    }
    out
}

/// The edit script turning `a` into `b`.
fn script(a: &[&str], b: &[&str]) -> Vec<Op> {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut ops: Vec<Op> = (0..head).map(|i| Op::Same(i, i)).collect();
    if am.len().saturating_mul(bm.len()) > MAX_CELLS {
        ops.extend((0..am.len()).map(|i| Op::Remove(head + i)));
        ops.extend((0..bm.len()).map(|j| Op::Add(head + j)));
    } else {
        ops.extend(lcs(am, bm).into_iter().map(|op| match op {
            Op::Same(i, j) => Op::Same(head + i, head + j),
            Op::Remove(i) => Op::Remove(head + i),
            Op::Add(j) => Op::Add(head + j),
        }));
    }
    let (a0, b0) = (a.len() - tail, b.len() - tail);
    ops.extend((0..tail).map(|k| Op::Same(a0 + k, b0 + k)));
    ops
}

fn lcs(a: &[&str], b: &[&str]) -> Vec<Op> {
    let (n, m) = (a.len(), b.len());
    // table[i][j]: the LCS length of a[i..] and b[j..].
    let w = m + 1;
    let mut table = vec![0u32; (n + 1) * w];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[i * w + j] = if a[i] == b[j] {
                table[(i + 1) * w + j + 1] + 1
            } else {
                table[(i + 1) * w + j].max(table[i * w + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::with_capacity(n + m);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push(Op::Same(i, j));
            i += 1;
            j += 1;
        } else if j < m && (i == n || table[i * w + j + 1] >= table[(i + 1) * w + j]) {
            ops.push(Op::Add(j));
            j += 1;
        } else {
            ops.push(Op::Remove(i));
            i += 1;
        }
    }
    // Show removals before additions within a run of changes.
    let mut k = 0;
    while k < ops.len() {
        let start = k;
        while k < ops.len() && !matches!(ops[k], Op::Same(..)) {
            k += 1;
        }
        ops[start..k].sort_by_key(|op| matches!(op, Op::Add(_)));
        k += 1;
    }
    ops
}

/// Ranges of `ops` to show: each change with its context, close changes merged.
fn hunks(ops: &[Op]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (k, op) in ops.iter().enumerate() {
        if matches!(op, Op::Same(..)) {
            continue;
        }
        let start = k.saturating_sub(CONTEXT);
        let end = (k + 1 + CONTEXT).min(ops.len());
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = end,
            _ => out.push((start, end)),
        }
    }
    out
}

fn render_hunk(out: &mut String, ops: &[Op], hunk: (usize, usize), a: &[&str], b: &[&str]) {
    let old_side = |o: &&Op| !matches!(o, Op::Add(_));
    let new_side = |o: &&Op| !matches!(o, Op::Remove(_));
    let (before, shown) = (&ops[..hunk.0], &ops[hunk.0..hunk.1]);
    let (old_before, new_before) = (
        before.iter().filter(old_side).count(),
        before.iter().filter(new_side).count(),
    );
    let (old_lines, new_lines) = (
        shown.iter().filter(old_side).count(),
        shown.iter().filter(new_side).count(),
    );
    // A side with no line in the hunk is numbered by the line before it.
    let start = |before: usize, lines: usize| if lines > 0 { before + 1 } else { before };
    out.push_str(&format!(
        "@@ -{},{old_lines} +{},{new_lines} @@\n",
        start(old_before, old_lines),
        start(new_before, new_lines),
    ));
    for op in shown {
        let (sign, line) = match *op {
            Op::Same(i, _) => (' ', a[i]),
            Op::Remove(i) => ('-', a[i]),
            Op::Add(j) => ('+', b[j]),
        };
        out.push(sign);
        out.push_str(line);
        if !line.ends_with('\n') {
            out.push_str("\n\\ No newline at end of file\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("a\nb\n", "a\nb\n", "x", "y"), "");
    }

    #[test]
    fn a_changed_line_in_the_middle() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        let d = unified(old, new, "a", "b");
        assert_eq!(d, "--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
    }

    #[test]
    fn additions_only_and_missing_final_newline() {
        let d = unified("a", "a\nb\n", "a", "b");
        assert_eq!(
            d,
            "--- a\n+++ b\n@@ -1,1 +1,2 @@\n-a\n\\ No newline at end of file\n+a\n+b\n"
        );
        let d = unified("", "x\n", "a", "b");
        assert_eq!(d, "--- a\n+++ b\n@@ -0,0 +1,1 @@\n+x\n");
    }
}
