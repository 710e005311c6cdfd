//! The layout tree: one node per output line or block, each remembering the
//! source ranges it was written from, so comments can be attached to it.
//!
//! Attachment rules, in order:
//! - a comment after code on its line trails the node that ends latest on that
//!   line before it, or, if a node starts on that line after every such end (a
//!   block's header, `rule x reject {  # ...`), the first line of that node;
//! - any other comment goes before the next node of the innermost block that
//!   holds it, or before the block's closing brace when nothing follows it;
//!   a comment inside a one-line construct moves before the construct.
//!
//! A line keeps one trailing comment; more (from lines the layout joined) move
//! before it, or, after a closing brace, before that brace.

use super::comments::{Comment, Lines, has_blank_line};
use super::doc::{self, Doc};

/// The root node: the file, whose children are its declarations.
pub const ROOT: usize = 0;
/// How far a block's contents are indented.
pub const INDENT: usize = 2;

#[derive(Debug)]
pub struct Block {
    pub children: Vec<usize>,
    /// `}`, or `}?` / `} = value` after a record type.
    pub close: String,
    /// Comments before the closing brace (for the root: at the end of the file).
    pub inner: Vec<Comment>,
}

#[derive(Debug)]
pub struct Node {
    /// Source byte ranges this node was written from.
    pub ranges: Vec<(usize, usize)>,
    /// The node's text, or a block's header (without ` {`).
    pub head: Doc,
    pub block: Option<Block>,
    /// Declarations of one kind that may stand together without a blank line.
    pub group: Option<&'static str>,
    /// Follows the previous declaration without a blank line.
    joined: bool,
    pub leading: Vec<Comment>,
    pub trail_head: Vec<Comment>,
    pub trail_tail: Vec<Comment>,
    depth: usize,
}

pub struct Tree<'a> {
    pub src: &'a str,
    pub width: usize,
    pub nodes: Vec<Node>,
    /// The file's comments, in order.
    comments: Vec<Comment>,
}

impl<'a> Tree<'a> {
    pub fn new(src: &'a str, width: usize) -> Self {
        let root = Node::new(vec![(0, src.len())], Doc::text(""));
        Tree {
            src,
            width,
            nodes: vec![root],
            comments: super::comments::scan(src),
        }
    }

    /// A range without the white space and comments that a pest pair may
    /// end with (a repetition that failed after skipping them).
    fn tight(&self, (start, mut end): (usize, usize)) -> (usize, usize) {
        loop {
            let text = self.src.get(start..end).unwrap_or("");
            end = start + text.trim_end_matches([' ', '\t', '\r', '\n', '\u{FEFF}']).len();
            let k = self.comments.partition_point(|c| c.end < end);
            match self.comments.get(k) {
                Some(c) if c.end == end && c.start >= start => end = c.start,
                _ => return (start, end),
            }
        }
    }

    pub fn leaf(&mut self, ranges: Vec<(usize, usize)>, head: Doc) -> usize {
        let ranges = ranges.into_iter().map(|r| self.tight(r)).collect();
        self.nodes.push(Node::new(ranges, head));
        self.nodes.len() - 1
    }

    pub fn block(&mut self, range: (usize, usize), head: Doc, children: Vec<usize>, close: String) -> usize {
        let id = self.leaf(vec![range], head);
        self.nodes[id].block = Some(Block {
            children,
            close,
            inner: Vec::new(),
        });
        id
    }

    /// Makes `items` the file's declarations.
    pub fn set_items(&mut self, items: Vec<usize>) {
        self.nodes[ROOT].block = Some(Block {
            children: items,
            close: String::new(),
            inner: Vec::new(),
        });
        let mut stack = vec![(ROOT, 0)];
        while let Some((id, depth)) = stack.pop() {
            self.nodes[id].depth = depth;
            if let Some(b) = &self.nodes[id].block {
                stack.extend(b.children.iter().map(|&c| (c, depth + 1)));
            }
        }
    }

    fn children(&self, id: usize) -> &[usize] {
        self.nodes[id].block.as_ref().map_or(&[], |b| b.children.as_slice())
    }

    /// Attaches every comment to a node (see the module documentation).
    pub fn attach(&mut self) {
        let comments = std::mem::take(&mut self.comments);
        let lines = Lines::new(self.src);
        let mut ends = Vec::new();
        let mut starts = Vec::new();
        for (id, n) in self.nodes.iter().enumerate().skip(1) {
            for &(s, e) in &n.ranges {
                ends.push((e, n.depth, id));
                starts.push((s, n.depth, id));
            }
        }
        // Latest end first among equals: the outermost node; latest start: the innermost.
        ends.sort_by_key(|&(e, d, _)| (e, usize::MAX - d));
        starts.sort_unstable();
        let mut inside: Vec<Vec<(usize, usize, usize)>> = vec![Vec::new(); self.nodes.len()];
        for (id, list) in inside.iter_mut().enumerate() {
            for &c in self.children(id) {
                list.extend(self.nodes[c].ranges.iter().map(|&(s, e)| (s, e, c)));
            }
            list.sort_unstable();
        }
        for c in comments {
            if c.trailing {
                let line = lines.line(c.start);
                let k = ends.partition_point(|x| x.0 <= c.start);
                let end = k.checked_sub(1).map(|k| ends[k]).filter(|x| lines.line(x.0) == line);
                let k = starts.partition_point(|x| x.0 < c.start);
                let start = k.checked_sub(1).map(|k| starts[k]).filter(|x| lines.line(x.0) == line);
                match (end, start) {
                    (Some(e), s) if s.is_none_or(|s| s.0 <= e.0) => {
                        self.nodes[e.2].trail_tail.push(c);
                        continue;
                    }
                    (_, Some(s)) => {
                        self.nodes[s.2].trail_head.push(c);
                        continue;
                    }
                    _ => {}
                }
            }
            self.attach_own_line(c, &inside);
        }
    }

    fn attach_own_line(&mut self, c: Comment, inside: &[Vec<(usize, usize, usize)>]) {
        let mut cur = ROOT;
        loop {
            if self.nodes[cur].block.is_none() {
                self.nodes[cur].leading.push(c);
                return;
            }
            let list = &inside[cur];
            let k = list.partition_point(|x| x.0 < c.start);
            if let Some(&(_, end, child)) = k.checked_sub(1).and_then(|k| list.get(k))
                && end > c.start
            {
                cur = child;
                continue;
            }
            if let Some(&(_, _, next)) = list.get(k) {
                self.nodes[next].leading.push(c);
            } else if let Some(b) = &mut self.nodes[cur].block {
                b.inner.push(c);
            }
            return;
        }
    }

    /// Whether two consecutive declarations stand together: both one-line
    /// declarations of one kind, written with no blank line between them.
    pub fn mark_groups(&mut self) {
        let items = self.children(ROOT).to_vec();
        for pair in items.windows(2) {
            let (prev, cur) = (&self.nodes[pair[0]], &self.nodes[pair[1]]);
            let same = prev.group.is_some() && prev.group == cur.group;
            let one_line = |n: &Node| !doc::render(&n.head, 0, self.width).contains('\n');
            let from = prev.ranges.iter().map(|r| r.1).max().unwrap_or(0);
            let to = cur
                .leading
                .iter()
                .map(|c| c.start)
                .chain(cur.ranges.iter().map(|r| r.0))
                .min()
                .unwrap_or(from);
            let gap = self.src.get(from..to.max(from)).unwrap_or("");
            self.nodes[pair[1]].joined = same && one_line(prev) && one_line(cur) && !has_blank_line(gap);
        }
    }

    /// The formatted file.
    pub fn render(&mut self) -> String {
        let mut out: Vec<String> = Vec::new();
        let items = self.children(ROOT).to_vec();
        for (k, &id) in items.iter().enumerate() {
            if k > 0 && !self.nodes[id].joined {
                out.push(String::new());
            }
            self.emit(id, 0, &mut out);
        }
        let end = self.nodes[ROOT].block.as_mut().map(|b| std::mem::take(&mut b.inner));
        for (k, c) in end.unwrap_or_default().iter().enumerate() {
            if c.blank_before && (k > 0 || !items.is_empty()) {
                out.push(String::new());
            }
            out.push(c.text.clone());
        }
        let mut text = String::new();
        for line in out {
            text.push_str(line.trim_end_matches(' '));
            text.push('\n');
        }
        text
    }

    fn emit(&mut self, id: usize, indent: usize, out: &mut Vec<String>) {
        let head = doc::render(&self.nodes[id].head, indent, self.width);
        let mut lines: Vec<String> = head.split('\n').map(str::to_string).collect();
        let node = &mut self.nodes[id];
        let block = node.block.take();
        let open = block
            .as_ref()
            .is_some_and(|b| !b.children.is_empty() || !b.inner.is_empty());
        if let (Some(last), Some(b)) = (lines.last_mut(), &block) {
            last.push_str(" {");
            if !open {
                last.push_str(&b.close);
            }
        }
        let placed = place(node, lines.len() == 1 && !open, open);
        let pad = " ".repeat(indent);
        for c in &placed.leading {
            out.push(format!("{pad}{}", c.text));
            if indent == 0 && c.blank_after {
                out.push(String::new());
            }
        }
        if let Some(first) = lines.first_mut() {
            first.insert_str(0, &pad);
            trail(first, placed.head.as_ref());
        }
        if !open && let Some(last) = lines.last_mut() {
            trail(last, placed.tail.as_ref());
        }
        out.extend(lines);
        let Some(mut b) = block.filter(|_| open) else {
            return;
        };
        b.inner.extend(placed.inner);
        for &child in &b.children {
            self.emit(child, indent + INDENT, out);
        }
        let inner_pad = " ".repeat(indent + INDENT);
        out.extend(b.inner.iter().map(|c| format!("{inner_pad}{}", c.text)));
        let mut close = format!("{pad}{}", b.close);
        trail(&mut close, placed.tail.as_ref());
        out.push(close);
    }
}

/// A node's comments, settled once its lines are known.
struct Placed {
    leading: Vec<Comment>,
    /// Trails the first line.
    head: Option<Comment>,
    /// Trails the last line (of an open block: its closing brace).
    tail: Option<Comment>,
    /// More comments before an open block's closing brace.
    inner: Vec<Comment>,
}

/// Keeps one trailing comment a line: on a one-line node the earliest of all;
/// the others move before the node, or, after a closing brace, before it.
fn place(node: &mut Node, one_line: bool, open: bool) -> Placed {
    let mut leading = std::mem::take(&mut node.leading);
    let mut head = std::mem::take(&mut node.trail_head);
    let mut tail = std::mem::take(&mut node.trail_tail);
    if one_line {
        head.append(&mut tail);
        head.sort_by_key(|c| c.start);
    }
    let rest = |list: &mut Vec<Comment>| -> Vec<Comment> {
        let mut rest = if list.len() > 1 { list.split_off(1) } else { Vec::new() };
        rest.iter_mut().for_each(|c| c.blank_after = false);
        rest
    };
    leading.extend(rest(&mut head));
    let tail_rest = rest(&mut tail);
    let inner = if open {
        tail_rest
    } else {
        leading.extend(tail_rest);
        Vec::new()
    };
    Placed {
        leading,
        head: head.pop(),
        tail: tail.pop(),
        inner,
    }
}

fn trail(line: &mut String, comment: Option<&Comment>) {
    if let Some(c) = comment {
        line.push_str("  ");
        line.push_str(&c.text);
    }
}

impl Node {
    fn new(ranges: Vec<(usize, usize)>, head: Doc) -> Self {
        Node {
            ranges,
            head,
            block: None,
            group: None,
            joined: false,
            leading: Vec::new(),
            trail_head: Vec::new(),
            trail_tail: Vec::new(),
            depth: 0,
        }
    }
}
