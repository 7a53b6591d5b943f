//! The crate's copies of the fixtures must stay byte-identical to the handbook's. The handbook sits beside
//! the repository on developer machines and in CI (`../shared/whatsapp/fixtures`); where it is absent
//! there is nothing to compare with, and the signature vectors still pin the two files they cover.

use std::path::Path;

use baton_whatsapp::fixtures;

#[test]
fn copies_match_the_handbook() {
    let handbook = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/whatsapp/fixtures");
    let Ok(listing) = std::fs::read_dir(&handbook) else {
        eprintln!("no handbook at {}: nothing to compare", handbook.display());
        return;
    };
    let mut names: Vec<String> = listing
        .map(|entry| entry.expect("a readable directory entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    let ours: Vec<&str> = fixtures::ALL.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ours, "the handbook added or removed a fixture: update fixtures.rs");
    for (name, bytes) in fixtures::ALL {
        let original = std::fs::read(handbook.join(name)).expect("a readable fixture");
        assert!(original == *bytes, "{name} differs from the handbook");
    }
}
