//! Embeds the shipped policies into the engine: `rules/` at the repository's
//! top (named `shipped`) and each `policies/NAME/` (named `shipped:NAME`),
//! every `.rules` file of each and the YAML test files of its `tests/` folder.

use std::fs;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, ext: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, ext, out);
        } else if path.extension().is_some_and(|e| ext.iter().any(|x| e == *x)) {
            out.push(path);
        }
    }
}

/// `const NAME: &[(&str, &str)] = &[(path, include_str!(..)), ...];`
fn files_const(root: &Path, name: &str, dir: &Path, ext: &[&str], code: &mut String) {
    let mut files = Vec::new();
    collect(dir, ext, &mut files);
    files.sort();
    code.push_str(&format!("const {name}: &[(&str, &str)] = &[\n"));
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(root).unwrap_or(f).to_string_lossy().replace('\\', "/");
        code.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    code.push_str("];\n");
}

fn main() {
    // The engine crate lives at `crates/kycrules`; the policies at the repository's top.
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest.join("../..");
    let mut policies = vec![("shipped".to_string(), root.join("rules"))];
    let extra = root.join("policies");
    println!("cargo:rerun-if-changed={}", extra.display());
    if let Ok(entries) = fs::read_dir(&extra) {
        let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
        dirs.sort();
        for d in dirs {
            let name = d
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            policies.push((format!("shipped:{name}"), d));
        }
    }
    let mut code = String::new();
    let mut table =
        String::from("/// Every embedded policy; the first is the default.\npub static POLICIES: &[Embedded] = &[\n");
    for (i, (name, dir)) in policies.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", dir.display());
        let tests = dir.join("tests");
        println!("cargo:rerun-if-changed={}", tests.display());
        files_const(&root, &format!("P{i}_FILES"), dir, &["rules"], &mut code);
        files_const(&root, &format!("P{i}_TESTS"), &tests, &["yaml", "yml"], &mut code);
        let rel = dir
            .strip_prefix(&root)
            .unwrap_or(dir)
            .to_string_lossy()
            .replace('\\', "/");
        table.push_str(&format!(
            "    Embedded {{ name: {name:?}, dir: {rel:?}, files: P{i}_FILES, tests: P{i}_TESTS }},\n"
        ));
    }
    table.push_str("];\n");
    code.push_str(&table);
    code.push_str(
        "/// The default shipped policy's files: (path, text).\npub static EMBEDDED: &[(&str, &str)] = P0_FILES;\n",
    );
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("embedded_rules.rs");
    if let Err(e) = fs::write(&out, code) {
        println!("cargo:warning=cannot write {}: {e}", out.display());
    }
}
