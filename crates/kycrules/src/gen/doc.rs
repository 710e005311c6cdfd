//! The documents the generator builds, and their JSON and YAML forms.

/// A generated document.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Str(String),
    /// A number, bool or null, written as is.
    Raw(String),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

pub(super) fn s(text: impl Into<String>) -> Node {
    Node::Str(text.into())
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

impl Node {
    pub(super) fn json(&self, out: &mut String) {
        match self {
            Node::Str(t) => out.push_str(&quote(t)),
            Node::Raw(r) => out.push_str(r),
            Node::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.json(out);
                }
                out.push(']');
            }
            Node::Map(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&quote(k));
                    out.push(':');
                    v.json(out);
                }
                out.push('}');
            }
        }
    }

    /// Block-style YAML; `indent` is the column of this map's keys. The
    /// first key follows whatever the caller already wrote on its line.
    pub(super) fn yaml_map(entries: &[(String, Node)], indent: usize, out: &mut String) {
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 {
                out.push_str(&" ".repeat(indent));
            }
            out.push_str(k);
            out.push(':');
            match v {
                Node::Map(m) if !m.is_empty() => {
                    out.push('\n');
                    out.push_str(&" ".repeat(indent + 2));
                    Node::yaml_map(m, indent + 2, out);
                }
                Node::List(items) if !items.is_empty() => {
                    out.push('\n');
                    for item in items {
                        out.push_str(&" ".repeat(indent + 2));
                        out.push_str("- ");
                        match item {
                            Node::Map(m) if !m.is_empty() => Node::yaml_map(m, indent + 4, out),
                            other => {
                                other.json(out);
                                out.push('\n');
                            }
                        }
                    }
                }
                other => {
                    out.push(' ');
                    other.json(out);
                    out.push('\n');
                }
            }
        }
    }
}
