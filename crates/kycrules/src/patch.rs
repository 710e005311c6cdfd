//! JSON Merge Patch (RFC 7386): a case that changes a base application.

use serde_json::Value;

/// Applies `patch` to `target`: objects merge key by key, `null` removes a
/// key, anything else replaces. Below 128 levels the patch replaces whole.
pub fn merge(target: &mut Value, patch: &Value) {
    merge_rec(target, patch, 0);
}

fn merge_rec(target: &mut Value, patch: &Value, depth: usize) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if depth > 128 {
        *target = patch.clone();
        return;
    }
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_rec(t.entry(k.clone()).or_insert(Value::Null), v, depth + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc7386() {
        let mut t = json!({"a": {"b": 1, "c": 2}, "d": [1, 2]});
        merge(&mut t, &json!({"a": {"b": null, "e": 3}, "d": [3]}));
        assert_eq!(t, json!({"a": {"c": 2, "e": 3}, "d": [3]}));
    }
}
