//! `crp` keeps the conventions of command-line tools: `--version`, shell
//! completions from clap's own generator, `NO_COLOR`, and the AWS CLI's
//! `--output json` beside `--json`. Offline: the AWS side is a loopback
//! stand-in for SSM.

mod support;

use std::process::Output;

use support::http::{Endpoint, Recorded, Reply};
use support::unique;

async fn crp(args: &[&str], env: &[(&str, &str)]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_crp"))
        .args(args)
        .env_remove("AWS_PROFILE")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ssm(r: &Recorded) -> Reply {
    let is_get = r
        .headers
        .get("x-amz-target")
        .is_some_and(|t| t == "AmazonSSM.GetParameters");
    if !is_get {
        return (400, Vec::new(), b"unexpected".to_vec());
    }
    let body = serde_json::json!({
        "Parameters": [{
            "Name": "/crp-test/out",
            "Type": "String",
            "Value": "out-value",
            "Version": 1,
            "LastModifiedDate": 1_700_000_000.0,
            "ARN": "arn:aws:ssm:us-east-1:111122223333:parameter/crp-test/out",
            "DataType": "text",
        }],
        "InvalidParameters": [],
    });
    (
        200,
        vec![("content-type", "application/x-amz-json-1.1".to_owned())],
        body.to_string().into_bytes(),
    )
}

#[tokio::test]
async fn version_prints_the_packages_version() {
    let out = crp(&["--version"], &[]).await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out).trim(),
        format!("crp {}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn completions_are_generated_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "_crp()"),
        ("zsh", "#compdef crp"),
        ("fish", "complete -c crp"),
    ] {
        let out = crp(&["completions", shell], &[]).await;
        let script = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(
            script.contains("profile"),
            "{shell} completes the global options"
        );
        assert!(script.contains("plan"), "{shell} completes the subcommands");
    }
    let unknown = crp(&["completions", "cmd.exe"], &[]).await;
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn a_reader_that_stops_early_ends_completions_quietly() {
    use std::os::fd::{FromRawFd, OwnedFd};
    // A pipe whose reading end is already closed, as after `| head`.
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just created by pipe(2) and are owned here.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_crp"))
        .args(["completions", "bash"])
        .stdout(std::process::Stdio::from(write))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[tokio::test]
async fn no_color_wins_over_forced_colour() {
    let forced = crp(&["--no-such-flag"], &[("CLICOLOR_FORCE", "1")]).await;
    assert_eq!(forced.status.code(), Some(2));
    assert!(stderr(&forced).contains('\u{1b}'), "colour when forced");

    let plain = crp(
        &["--no-such-flag"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    )
    .await;
    assert_eq!(plain.status.code(), Some(2));
    assert!(!stderr(&plain).contains('\u{1b}'), "{}", stderr(&plain));
    assert!(stderr(&plain).contains("--no-such-flag"));
}

#[tokio::test]
async fn output_json_is_the_same_as_json_for_crp_and_crp_plan() {
    let stand_in = Endpoint::start(ssm).await;
    let url = stand_in.url();
    let env = [("AWS_ENDPOINT_URL", url.as_str())];
    let one = ["--region", "us-east-1", "--parameter-name", "/crp-test/out"];

    let flag = crp(&[&one[..], &["--json"]].concat(), &env).await;
    let output = crp(&[&one[..], &["--output", "json"]].concat(), &env).await;
    let text = crp(&[&one[..], &["--output", "text"]].concat(), &env).await;

    let as_json = |o: &Output| -> serde_json::Value {
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", stdout(o), stderr(o)))
    };
    assert_eq!(as_json(&flag)["Data"]["Value"], "out-value");
    assert_eq!(as_json(&flag), as_json(&output));
    assert!(
        stdout(&text).contains("  Value = out-value"),
        "{}",
        stdout(&text)
    );

    let dir = std::env::temp_dir().join(unique("crp-output"));
    std::fs::create_dir_all(&dir).unwrap();
    let template = dir.join("template.yaml");
    std::fs::write(
        &template,
        "Resources:\n  Edge:\n    Type: Custom::CrossRegionParam\n    Properties:\n      \
         ServiceToken: arn:aws:lambda:us-east-1:111122223333:function:crp\n      \
         Region: us-east-1\n      ParameterName: /crp-test/out\n",
    )
    .unwrap();
    let path = template.display().to_string();
    let plan_flag = crp(&["plan", "--json", &path], &env).await;
    let plan_output = crp(&["plan", "--output", "json", &path], &env).await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(plan_flag.status.code(), Some(0), "{}", stderr(&plan_flag));
    assert_eq!(
        plan_output.status.code(),
        Some(0),
        "{}",
        stderr(&plan_output)
    );
    assert!(as_json(&plan_output).is_array(), "{}", stdout(&plan_output));
    assert_eq!(as_json(&plan_flag), as_json(&plan_output));
}
