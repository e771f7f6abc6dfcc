//! Embeds the repository's `suites/` and `fixtures/` in the binary, so an
//! installed `scimitar` (`cargo install --path .`) runs its suites from any
//! folder. Writes `$OUT_DIR/embedded_suites.rs`: a list of
//! `(relative path, include_bytes!(absolute path))` and a content digest.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const DIRS: [&str; 2] = ["suites", "fixtures"];

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let mut files = Vec::new();
    for d in DIRS {
        let dir = root.join(d);
        // A folder is scanned for any change; a missing one is watched for appearing.
        println!("cargo::rerun-if-changed={}", dir.display());
        collect(&root, &dir, &mut files);
    }
    files.sort();
    // FNV-1a over paths and contents: names the extraction folder.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    let mut out =
        String::from("/// Embedded `(path, bytes)`, paths relative to the repository root.\n");
    out.push_str("pub static FILES: &[(&str, &[u8])] = &[\n");
    for (rel, abs) in &files {
        feed(rel.as_bytes());
        feed(&std::fs::read(abs).unwrap_or_default());
        let _ = writeln!(
            out,
            "    ({rel:?}, include_bytes!({:?})),",
            abs.display().to_string()
        );
    }
    out.push_str("];\n");
    let _ = writeln!(
        out,
        "/// Digest of the embedded files.\npub const DIGEST: &str = \"{hash:016x}\";"
    );
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into()));
    if let Err(e) = std::fs::write(out_dir.join("embedded_suites.rs"), out) {
        panic!("cannot write embedded_suites.rs: {e}");
    }
}

/// Files under `dir`, recursively, as (path relative to `root` with `/`, absolute path).
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name();
        // Editor backups and hidden files are not part of the suites.
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push((rel.join("/"), path));
        }
    }
}
