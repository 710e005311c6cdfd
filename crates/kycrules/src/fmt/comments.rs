//! Finding the comments of a policy file.
//!
//! The grammar treats comments as white space, so the syntax tree has none.
//! A lexical scan finds them instead: it skips quoted texts (with their
//! escapes) and raw texts `r"..."` (without), so a `#` inside a text is not
//! taken for a comment.

/// One comment, from `#` to the end of its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Byte offset of the `#`.
    pub start: usize,
    /// Byte offset just after the comment's last character that is not white space.
    pub end: usize,
    /// The comment as written, from `#`, without trailing white space.
    pub text: String,
    /// Code precedes the comment on its line.
    pub trailing: bool,
    /// A blank line separates the comment from what comes before it.
    pub blank_before: bool,
    /// A blank line separates the comment from what comes after it.
    pub blank_after: bool,
}

/// Every comment of `text`, in order.
pub fn scan(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut after_ident = false;
    let mut line_has_code = false;
    while i < bytes.len() {
        let b = bytes[i];
        if bytes[i..].starts_with("\u{FEFF}".as_bytes()) {
            i += '\u{FEFF}'.len_utf8();
            after_ident = false;
            continue;
        }
        match b {
            b'\n' => {
                line_has_code = false;
                after_ident = false;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => {
                after_ident = false;
                i += 1;
            }
            b'#' => {
                let line_end = text[i..].find('\n').map_or(text.len(), |k| i + k);
                let body = text[i..line_end].trim_end_matches([' ', '\t', '\r']);
                out.push(Comment {
                    start: i,
                    end: i + body.len(),
                    text: body.to_string(),
                    trailing: line_has_code,
                    blank_before: false,
                    blank_after: false,
                });
                after_ident = false;
                i = line_end;
            }
            b'"' => {
                i = skip_text(bytes, i + 1, true);
                line_has_code = true;
                after_ident = false;
            }
            b'r' if !after_ident && bytes.get(i + 1) == Some(&b'"') => {
                i = skip_text(bytes, i + 2, false);
                line_has_code = true;
                after_ident = false;
            }
            _ => {
                line_has_code = true;
                after_ident = b.is_ascii_alphanumeric() || b == b'_';
                i += 1;
            }
        }
    }
    for c in &mut out {
        let before = text[..c.start].trim_end_matches(is_space);
        c.blank_before = has_blank_line(&text[before.len()..c.start]);
        let after = text[c.end..].trim_start_matches(is_space);
        c.blank_after = has_blank_line(&text[c.end..text.len() - after.len()]);
    }
    out
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{FEFF}')
}

/// The offset just after the text whose body starts at `i`: after its closing
/// quote, or at the end of the line if it has none.
fn skip_text(bytes: &[u8], mut i: usize, escapes: bool) -> usize {
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\n' => return i,
            b'"' => return i + 1,
            b'\\' if escapes && bytes.get(i + 1).is_some_and(|&n| n != b'\n') => i += 2,
            _ => i += 1,
        }
    }
    i
}

/// Whether a stretch of white space and comments, starting after some code or
/// a comment, holds a blank line: two line ends with nothing but white space
/// between them.
pub fn has_blank_line(gap: &str) -> bool {
    let mut newline_seen = false;
    let mut content = false;
    for c in gap.chars() {
        match c {
            '\n' => {
                if newline_seen && !content {
                    return true;
                }
                newline_seen = true;
                content = false;
            }
            c if is_space(c) => {}
            _ => content = true,
        }
    }
    false
}

/// Line numbers of byte offsets.
pub struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts }
    }

    /// The 0-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).saturating_sub(1)
    }
}
