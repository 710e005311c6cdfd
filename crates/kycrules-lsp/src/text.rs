//! Positions: byte offsets of the engine's spans to and from the protocol's
//! lines and UTF-16 columns.

use kycrules::source::Span;
use serde_json::{Value, json};

/// Where each line of a text starts.
#[derive(Debug, Clone)]
pub struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts }
    }

    /// The 0-based line and UTF-16 column of a byte offset.
    pub fn position(&self, text: &str, offset: usize) -> (u32, u32) {
        let offset = kycrules::source::floor_char_boundary(text, offset);
        let line = self.starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0).min(offset);
        let col: usize = text
            .get(start..offset)
            .map_or(0, |s| s.chars().map(char::len_utf16).sum());
        (to_u32(line), to_u32(col))
    }

    /// The byte offset of a 0-based line and UTF-16 column (clamped to the text).
    pub fn offset(&self, text: &str, line: u32, col: u32) -> usize {
        let Some(&start) = self.starts.get(line as usize) else {
            return text.len();
        };
        let end = self.starts.get(line as usize + 1).copied().unwrap_or(text.len());
        let mut units = 0usize;
        for (i, c) in text.get(start..end).unwrap_or("").char_indices() {
            if units >= col as usize || c == '\n' {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }

    /// An LSP range of a span.
    pub fn range(&self, text: &str, span: Span) -> Value {
        let (sl, sc) = self.position(text, span.start as usize);
        let (el, ec) = self.position(text, span.end as usize);
        json!({"start": {"line": sl, "character": sc}, "end": {"line": el, "character": ec}})
    }

    /// The range of the whole text.
    pub fn whole(&self, text: &str) -> Value {
        let (el, ec) = self.position(text, text.len());
        json!({"start": {"line": 0, "character": 0}, "end": {"line": el, "character": ec}})
    }

    pub fn line_of(&self, text: &str, offset: usize) -> u32 {
        self.position(text, offset).0
    }
}

pub fn to_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A `file://` URI of an absolute path (spaces and other reserved bytes escaped).
pub fn path_to_uri(path: &std::path::Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let mut out = String::from("file://");
    if !s.starts_with('/') {
        out.push('/');
    }
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The path of a `file://` URI, `None` for other schemes.
pub fn uri_to_path(uri: &str) -> Option<std::path::PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && let Some(v) = rest.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    let s = String::from_utf8(out).ok()?;
    // `file:///c:/x` on Windows.
    let s = match s.as_bytes() {
        [b'/', d, b':', ..] if d.is_ascii_alphabetic() => s[1..].to_string(),
        _ => s,
    };
    Some(std::path::PathBuf::from(s))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn utf16_columns_round_trip() {
        let text = "ab\n中x😀y\n";
        let l = Lines::new(text);
        let y = text.find('y').unwrap();
        assert_eq!(l.position(text, y), (1, 4));
        assert_eq!(l.offset(text, 1, 4), y);
        assert_eq!(l.offset(text, 9, 0), text.len());
        assert_eq!(l.offset(text, 0, 99), 2);
    }

    #[test]
    fn uris_round_trip() {
        let p = std::path::Path::new("/tmp/a b/ü.rules");
        let uri = path_to_uri(p);
        assert_eq!(uri, "file:///tmp/a%20b/%C3%BC.rules");
        assert_eq!(uri_to_path(&uri).unwrap(), p);
        assert!(uri_to_path("untitled:1").is_none());
    }
}
