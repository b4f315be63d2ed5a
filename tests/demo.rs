//! `make demo` as a test: scripts/demo.py runs the story (EdgeStack and
//! ClientAppStack on its own moto, three rounds, the bad round, deletes) with
//! this build's provider binary, and must end well: exit 0, four distinct
//! version ARNs in order, the bad version refused with every violation. Its
//! screen is a story on a 100-column terminal: no longer line, and moto's
//! details (its patches) only with `--verbose`, each named in docs/demo.md.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The terminal width the demo is written for.
const COLUMNS: usize = 100;

/// The Python of the project's virtualenv (`scripts/setup.sh`, run by `make test`).
fn python() -> String {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/python");
    assert!(
        std::path::Path::new(venv).exists(),
        "{venv} is missing: run `bash scripts/setup.sh` (make test does)"
    );
    venv.to_owned()
}

/// Runs scripts/demo.py with `args` (bounded); its stdout, once it exited 0.
fn run_demo(args: &[&str]) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/demo.py");
    let mut child = Command::new(python())
        .arg(script)
        .args(args)
        .arg("--binary")
        .arg(env!("CARGO_BIN_EXE_cross-region-param"))
        .env_remove("AWS_PROFILE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Bounded: the demo stops its own moto and binary when it ends.
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(300) {
            child.kill().unwrap();
            panic!("the demo did not finish within 300 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        status.success(),
        "demo exited with {status}\n{stdout}\n{stderr}"
    );
    stdout
}

/// Lines of `stdout` wider than the terminal.
fn too_wide(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| l.chars().count() > COLUMNS)
        .collect()
}

#[test]
fn the_demo_tells_the_story_on_moto_with_the_real_binary() {
    // The default screen, as `make demo` shows it.
    let stdout = run_demo(&[]);
    assert!(
        too_wide(&stdout).is_empty(),
        "lines over {COLUMNS} columns: {:#?}",
        too_wide(&stdout)
    );
    assert!(
        !stdout.contains("moto patch"),
        "moto's patches are for --verbose only:\n{stdout}"
    );

    // The summary: "    initial   <arn>", "    round N   <arn>", "    refused   <arn>".
    let arn_of = |label: &str| -> String {
        stdout
            .lines()
            .find_map(|l| l.trim_start().strip_prefix(label))
            .map(|rest| rest.trim().to_owned())
            .unwrap_or_else(|| panic!("no '{label}' line in the demo's summary:\n{stdout}"))
    };
    let arns: Vec<String> = ["initial ", "round 1 ", "round 2 ", "round 3 "]
        .into_iter()
        .map(&arn_of)
        .collect();
    let versions: Vec<u32> = arns
        .iter()
        .map(|a| {
            assert!(
                a.starts_with("arn:aws:lambda:us-east-1:123456789012:function:AuthFunction:"),
                "not a version ARN of the edge function: {a}"
            );
            a.rsplit(':').next().unwrap().parse().unwrap()
        })
        .collect();
    assert_eq!(
        versions,
        vec![1, 2, 3, 4],
        "each round gets the next version"
    );
    let refused = arn_of("refused ");
    assert!(
        !arns.contains(&refused),
        "the refused version must never reach the app"
    );

    for violation in [
        "environment variable",
        "memory is 256 MB",
        "timeout is 10 s",
    ] {
        assert!(
            stdout.contains(violation),
            "the bad round's Reason does not show '{violation}':\n{stdout}"
        );
    }
    for stack_status in ["CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"] {
        assert!(
            stdout.contains(stack_status),
            "no {stack_status} from moto:\n{stdout}"
        );
    }
    assert!(stdout.contains("demo: OK"), "{stdout}");
}

#[test]
fn the_demo_names_its_moto_patches_with_verbose_and_docs_name_each() {
    let stdout = run_demo(&["--verbose"]);
    assert!(
        too_wide(&stdout).is_empty(),
        "lines over {COLUMNS} columns: {:#?}",
        too_wide(&stdout)
    );
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/demo.md"))
        .expect("docs/demo.md");
    // ". moto patch: NAME. why..." (the why may wrap onto the next lines)
    let names: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split_once("moto patch: "))
        .map(|(_, rest)| rest.split_once(". ").map_or(rest, |(name, _)| name))
        .collect();
    assert!(!names.is_empty(), "no moto patch named:\n{stdout}");
    for name in names {
        assert!(
            docs.contains(name),
            "docs/demo.md does not name the moto patch {name:?}"
        );
    }
    assert!(stdout.contains("demo: OK"), "{stdout}");
}
