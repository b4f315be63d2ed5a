//! `make deadlock` as a test: aws-cdk-lib's own cross-region export handlers
//! (2.255.0 refuses the edge change, 2.276.0 deletes the referenced parameter)
//! and the migration of docs/migrating.md, played on moto with this crate's
//! provider binary until three edge versions reach the distribution.
//!
//! Runs `scripts/deadlock.py` (Python from `.venv`, Node and npm for CDK; the
//! pinned aws-cdk-lib versions are installed into `.tools/deadlock` on first
//! use) against the moto server of `make test`, and reads its screen as
//! `make deadlock` shows it: no line over 100 columns, and the first deploy's
//! calls labelled `[create]`, never `[update]`.

mod support;

use std::process::Command;

#[test]
fn cdks_writer_locks_the_edge_change_and_the_documented_migration_frees_it() {
    let root = env!("CARGO_MANIFEST_DIR");
    let output = Command::new(format!("{root}/.venv/bin/python"))
        .arg(format!("{root}/scripts/deadlock.py"))
        .arg("--moto-url")
        .arg(support::moto_url())
        .arg("--provider-bin")
        .arg(env!("CARGO_BIN_EXE_cross-region-param"))
        .current_dir(root)
        .output()
        .expect("scripts/deadlock.py could not be started (run scripts/setup.sh)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "scripts/deadlock.py failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    for group in [
        "== aws-cdk-lib 2.276.0: CDK's own writer and reader",
        "== aws-cdk-lib 2.255.0: CDK's own writer and reader",
        "== the migration (docs/migrating.md)",
    ] {
        assert!(stdout.contains(group), "missing {group:?} in:\n{stdout}");
    }
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("== all ") && l.ends_with(" checks passed")),
        "no final line in:\n{stdout}"
    );

    let too_wide: Vec<&str> = stdout.lines().filter(|l| l.chars().count() > 100).collect();
    assert!(too_wide.is_empty(), "lines over 100 columns: {too_wide:#?}");

    // Each "deploy ... (first deploy...)" up to its "ok: ... CREATE_COMPLETE".
    let mut first_deploys = 0;
    let mut in_first_deploy = false;
    for line in stdout.lines() {
        if line.contains("(first deploy") {
            in_first_deploy = true;
            first_deploys += 1;
        } else if in_first_deploy && line.contains("ok: ") && line.contains("CREATE_COMPLETE") {
            in_first_deploy = false;
        } else if in_first_deploy {
            assert!(
                !line.contains("[update]"),
                "a first deploy's call is labelled [update]: {line}\n{stdout}"
            );
        }
    }
    assert!(
        first_deploys >= 2 && stdout.contains("[create]"),
        "no first deploy with [create] calls in:\n{stdout}"
    );
}
