//! The CDK library end to end: examples/cdk synthesized with cdk-cross-region-param,
//! its ClientAppStack (with the provider function the library adds, its code
//! published to moto's S3 by the CDK CLI) created through moto's
//! CloudFormation, and this build's provider binary answering the custom
//! resource requests. moto must report CREATE_COMPLETE with the newest edge
//! version ARN in the stack's output.
//!
//! Runs `scripts/cdk_e2e.py --check` (Python from `.venv`; Node and the npm
//! workspace, which the script installs and builds when missing or stale). The
//! script starts its own moto in-process: `CRP_TEST_MOTO_URL` is not used.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// npm ci and the library's jsii build, when needed, come on top of the run itself.
const LIMIT: Duration = Duration::from_secs(1200);

#[test]
fn the_synthesized_client_app_stack_deploys_on_moto_with_the_real_provider() {
    let root = env!("CARGO_MANIFEST_DIR");
    let python = format!("{root}/.venv/bin/python");
    assert!(
        std::path::Path::new(&python).exists(),
        "{python} is missing: run `bash scripts/setup.sh` (make test does)"
    );
    let mut child = Command::new(&python)
        .arg(format!("{root}/scripts/cdk_e2e.py"))
        .arg("--check")
        .arg("--provider-bin")
        .arg(env!("CARGO_BIN_EXE_cross-region-param"))
        .current_dir(root)
        .env_remove("AWS_PROFILE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("scripts/cdk_e2e.py could not be started");

    // Read both pipes while waiting, so a long account never blocks the script.
    let mut stdout_pipe = child.stdout.take().unwrap();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout_pipe, &mut s).ok();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr_pipe, &mut s).ok();
        s
    });

    // Bounded: on time-out the script gets SIGTERM (it then stops moto, the
    // provider and its child processes), and SIGKILL if it is still there.
    let started = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > LIMIT && !timed_out {
            timed_out = true;
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        if started.elapsed() > LIMIT + Duration::from_secs(20) {
            child.kill().unwrap();
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let stdout = out_reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    assert!(
        !timed_out,
        "scripts/cdk_e2e.py did not finish within {LIMIT:?}:\n{stdout}\n{stderr}"
    );
    assert!(
        status.success(),
        "scripts/cdk_e2e.py --check failed ({status}):\n{stdout}\n{stderr}"
    );

    for group in [
        "ok   template: exactly one AWS::Lambda::Function",
        "ok   assets: ",
        "ok   sources: EdgeStack CREATE_COMPLETE",
        "ok   moto gaps: ",
        "ok   provider function: ",
        "ok   stack: ",
        "ok   output: EdgeFunctionVersionArn is the newest version",
        "ok   delete: ",
    ] {
        assert!(
            stdout.lines().any(|l| l.starts_with(group)),
            "missing {group:?} in:\n{stdout}"
        );
    }
    assert!(
        !stdout.lines().any(|l| l.starts_with("FAIL ")),
        "a check failed:\n{stdout}"
    );
    let template = stdout
        .lines()
        .find(|l| l.starts_with("ok   template: "))
        .unwrap();
    for part in [
        "provided.al2023, ['arm64']",
        "0 Exports and 0 Fn::ImportValue",
    ] {
        assert!(template.contains(part), "{part:?} not in: {template}");
    }

    // The stack's status and output as moto reports them.
    assert!(
        stdout.contains("ClientAppStack: CREATE_COMPLETE (from moto)"),
        "{stdout}"
    );
    let newest = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("newest published version: "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no newest version line in:\n{stdout}"));
    assert!(
        newest.starts_with("arn:aws:lambda:us-east-1:123456789012:function:AuthFunction:"),
        "not a version ARN of the edge function: {newest}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.trim() == format!("EdgeFunctionVersionArn = {newest}")),
        "the stack's output is not {newest}:\n{stdout}"
    );
    assert!(
        stdout.contains("CRP_RESPONSE_URL_HOSTS=127.0.0.1  (ADDED"),
        "the added variable is not declared:\n{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("cdk_e2e: all ") && l.ends_with(" groups passed")),
        "no final line in:\n{stdout}"
    );
}
