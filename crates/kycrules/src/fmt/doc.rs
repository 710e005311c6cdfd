//! A small pretty printer in the manner of Wadler's "prettier printer": a
//! document of texts, optional line breaks, nesting and groups; a group is laid
//! out on one line when it fits, and broken at every one of its own `Line`s
//! otherwise. Rendering is iterative, so deep documents cannot overflow the stack.

/// A document to lay out.
#[derive(Debug, Clone)]
pub enum Doc {
    Text(String),
    /// A space when its group is flat; a new line at the current indent when broken.
    Line,
    /// Nothing when its group is flat; a new line at the current indent when broken.
    SoftLine,
    /// A text written only when its group is broken (a trailing comma).
    IfBreak(&'static str),
    Concat(Vec<Doc>),
    /// Indents the new lines inside by this many more columns.
    Nest(usize, Box<Doc>),
    /// Laid out flat if it fits in the width, else broken.
    Group(Box<Doc>),
}

impl Doc {
    pub fn text(s: impl Into<String>) -> Doc {
        Doc::Text(s.into())
    }

    pub fn nest(n: usize, d: Doc) -> Doc {
        Doc::Nest(n, Box::new(d))
    }

    pub fn group(d: Doc) -> Doc {
        Doc::Group(Box::new(d))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Flat,
    Break,
}

/// Lays `doc` out within `width` columns, starting at column `indent` with
/// that indent for broken lines. The result has no leading indent.
pub fn render(doc: &Doc, indent: usize, width: usize) -> String {
    let mut out = String::new();
    let mut col = indent;
    let mut stack: Vec<(usize, Mode, &Doc)> = vec![(indent, Mode::Break, doc)];
    while let Some((i, mode, d)) = stack.pop() {
        match d {
            Doc::Text(s) => {
                out.push_str(s);
                col += s.chars().count();
            }
            Doc::Line => match mode {
                Mode::Flat => {
                    out.push(' ');
                    col += 1;
                }
                Mode::Break => {
                    out.push('\n');
                    out.extend(std::iter::repeat_n(' ', i));
                    col = i;
                }
            },
            Doc::SoftLine => {
                if mode == Mode::Break {
                    out.push('\n');
                    out.extend(std::iter::repeat_n(' ', i));
                    col = i;
                }
            }
            Doc::IfBreak(s) => {
                if mode == Mode::Break {
                    out.push_str(s);
                    col += s.chars().count();
                }
            }
            Doc::Concat(parts) => stack.extend(parts.iter().rev().map(|p| (i, mode, p))),
            Doc::Nest(n, inner) => stack.push((i + n, mode, inner)),
            Doc::Group(inner) => {
                let flat = mode == Mode::Flat || fits(width.saturating_sub(col), inner, &stack);
                stack.push((i, if flat { Mode::Flat } else { Mode::Break }, inner));
            }
        }
    }
    out
}

/// Whether `next`, laid out flat, and what follows it up to the next line
/// break, fit in `room` columns.
fn fits(room: usize, next: &Doc, rest: &[(usize, Mode, &Doc)]) -> bool {
    let mut room = room;
    let mut local: Vec<(Mode, &Doc)> = vec![(Mode::Flat, next)];
    let mut rest = rest.iter().rev();
    loop {
        let (mode, d) = match local.pop() {
            Some(x) => x,
            None => match rest.next() {
                Some((_, m, d)) => (*m, *d),
                None => return true,
            },
        };
        match d {
            Doc::Text(s) => {
                let w = s.chars().count();
                if w > room {
                    return false;
                }
                room -= w;
            }
            Doc::Line => match mode {
                Mode::Flat if room == 0 => return false,
                Mode::Flat => room -= 1,
                Mode::Break => return true,
            },
            Doc::SoftLine => {
                if mode == Mode::Break {
                    return true;
                }
            }
            Doc::IfBreak(s) => {
                if mode == Mode::Break {
                    let w = s.chars().count();
                    if w > room {
                        return false;
                    }
                    room -= w;
                }
            }
            Doc::Concat(parts) => local.extend(parts.iter().rev().map(|p| (mode, p))),
            Doc::Nest(_, inner) => local.push((mode, inner)),
            // A group inside keeps the mode of what holds it: flat inside `next`, as laid out after it.
            Doc::Group(inner) => local.push((mode, inner)),
        }
    }
}
