//! `kycrules serve`, end to end: the real binary on an ephemeral loopback
//! port, spoken to over HTTP/1.1.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kycrules");
const AS_OF: &str = "2026-11-27";

/// A running `kycrules serve`; killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let addr = first
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        Server { child, addr }
    }

    fn get(&self, path: &str) -> Reply {
        request(&self.addr, "GET", path, &[], b"")
    }

    fn post(&self, path: &str, body: &[u8]) -> Reply {
        request(&self.addr, "POST", path, &[], body)
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args(["-s", sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    fn policy_hash(&self) -> String {
        let p: Value = serde_json::from_slice(&self.get("/v1/policy").body).unwrap();
        p["hash"].as_str().unwrap().to_owned()
    }

    /// Polls `/v1/policy` until `pred` holds (at most 20 s).
    fn wait_policy(&self, pred: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let p: Value = serde_json::from_slice(&self.get("/v1/policy").body).unwrap();
            if pred(&p) {
                return p;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "policy never reached the state: {p}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request on its own connection (`Connection: close`).
fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    try_request(addr, method, path, headers, body).unwrap()
}

fn try_request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> std::io::Result<Reply> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    // A server may answer (413) before reading a large body; that is not our error.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let headers = String::from_utf8_lossy(&raw[..split]).to_lowercase();
    let status = headers[9..12].parse().map_err(std::io::Error::other)?;
    let mut body = raw[split + 4..].to_vec();
    if headers.contains("transfer-encoding: chunked") {
        body = dechunk(&body).ok_or_else(|| std::io::Error::other("broken chunked body"))?;
    }
    Ok(Reply { status, headers, body })
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).ok()?.trim(), 16).ok()?;
        b = &b[eol + 2..];
        if n == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..n)?);
        b = b.get(n + 2..)?;
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kycrules-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A copy of the shipped policy and its tests, to edit.
fn policy_copy(name: &str) -> PathBuf {
    let d = temp_dir(name).join("policy");
    std::fs::create_dir_all(d.join("tests")).unwrap();
    for dir in ["rules", "rules/tests"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                let to = d.join(p.strip_prefix(root().join("rules")).unwrap());
                std::fs::copy(&p, to).unwrap();
            }
        }
    }
    d
}

fn application() -> Vec<u8> {
    let text = std::fs::read_to_string(root().join("examples/applications/05-batch.jsonl")).unwrap();
    text.lines().next().unwrap().as_bytes().to_vec()
}

/// The line minus its trailing `,"decision_id":"…"}`, and the id.
fn split_id(line: &str) -> (String, String) {
    let at = line
        .rfind(",\"decision_id\":\"")
        .unwrap_or_else(|| panic!("no decision_id in {line}"));
    let id = line[at + 16..].trim_end_matches(['}', '"', '\n']).to_owned();
    (format!("{}}}", &line[..at]), id)
}

#[test]
fn every_route_answers() {
    let s = Server::start(&[]);
    let h = s.get("/healthz");
    assert_eq!((h.status, h.json()["status"].as_str()), (200, Some("ok")));
    let r = s.get("/readyz");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["policy"].as_str().unwrap().len(), 16);

    let p = s.get("/v1/policy");
    assert!(p.headers.contains("content-type: application/json"));
    let p = p.json();
    assert_eq!(p["name"], "alipay-foreign-real-name");
    assert!(
        p["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "name-charset" && r["outcome"] == "reject")
    );
    assert_eq!(p["last_reload"]["ok"], true);
    assert!(p["loaded_at"].as_str().unwrap().ends_with('Z'));

    let d = s.post(&format!("/v1/decide?as_of={AS_OF}"), &application());
    assert_eq!(d.status, 200);
    assert!(d.headers.contains("content-type: application/json"));
    let v = d.json();
    assert_eq!(v["decision"], "accept");
    assert_eq!(v["source"], "request");
    assert!(v["decision_id"].is_string());

    // Two applications, a blank line, and a malformed one: three answers in order.
    let mut body = application();
    body.extend_from_slice(b"\n\n{\"id\": \"B-2\", \"applicant\": 5}\n{not json\n");
    let b = s.post("/v1/decide/batch?source=batch", &body);
    assert_eq!(b.status, 200);
    assert!(b.headers.contains("content-type: application/x-ndjson"));
    let lines: Vec<Value> = b.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["source"], "batch:1");
    assert_eq!(lines[1]["source"], "batch:3");
    assert_eq!(lines[1]["decision"], "error");
    assert_eq!(lines[2]["decision"], "error");
    assert_eq!(lines[2]["source"], "batch:4");

    let e = s.post(&format!("/v1/explain?as_of={AS_OF}"), &application());
    assert_eq!(e.status, 200);
    let ex = e.json();
    assert_eq!(ex["id"], "J-0001");
    assert!(ex["rules"].as_array().unwrap().len() > 5);

    let m = s.get("/metrics");
    assert_eq!(m.status, 200);
    let text = m.text();
    for needle in [
        "kycrules_http_requests_total{route=\"/v1/decide\",status=\"200\"} 1",
        "kycrules_decisions_total{decision=\"accept\"} 2",
        "kycrules_decisions_total{decision=\"error\"} 2",
        "kycrules_http_request_duration_seconds_bucket{route=\"/v1/decide\"",
        "kycrules_policy_info{",
    ] {
        assert!(text.contains(needle), "{needle} not in\n{text}");
    }
    assert_eq!(s.get("/nope").status, 404);
}

#[test]
fn explain_equals_the_command_line() {
    let s = Server::start(&[]);
    let app = application();
    let e = s.post(&format!("/v1/explain?as_of={AS_OF}&source=%3Cstdin%3E:1"), &app);
    let mut cli = Command::new(BIN)
        .args(["explain", "--format", "json", "--as-of", AS_OF, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    cli.stdin.take().unwrap().write_all(&app).unwrap();
    let out = cli.wait_with_output().unwrap();
    assert_eq!(e.text(), String::from_utf8(out.stdout).unwrap());
}

/// Every example application, one at a time and as one batch, gets the bytes
/// `check --format json` prints for it, plus its decision id.
#[test]
fn every_example_decides_as_check_does() {
    let s = Server::start(&[]);
    // Relative paths, as a user types them (tests run in the package's folder).
    let dir = PathBuf::from("examples/applications");
    let check = Command::new(BIN)
        .args(["check", "--format", "json", "--as-of", AS_OF])
        .arg(&dir)
        .current_dir(root())
        .output()
        .unwrap();
    let expected: Vec<String> = String::from_utf8(check.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    // The records as check reads them, with the source labels it gives them.
    let records: Vec<_> = kycrules::input::read_inputs(vec![dir.clone()]).collect();
    assert_eq!(records.len(), expected.len());
    assert!(expected.len() >= 10, "too few examples: {}", expected.len());
    let mut singles = 0;
    for (rec, want) in records.iter().zip(&expected) {
        let Ok(value) = &rec.value else { continue };
        let source = &rec.source;
        let r = s.post(
            &format!("/v1/decide?as_of={AS_OF}&source={}", source.replace(' ', "%20")),
            value.to_string().as_bytes(),
        );
        let (line, _) = split_id(r.text().trim_end());
        assert_eq!(&line, want, "{source}");
        let w: Value = serde_json::from_str(want).unwrap();
        assert_eq!(r.status, if w["decision"] == "error" { 422 } else { 200 });
        singles += 1;
    }
    assert!(singles >= 10);

    // The JSON Lines example as one batch, labelled as check labels it.
    let jsonl = dir.join("05-batch.jsonl");
    let b = s.post(
        &format!("/v1/decide/batch?as_of={AS_OF}&source=examples/applications/05-batch.jsonl"),
        &std::fs::read(&jsonl).unwrap(),
    );
    let got: Vec<String> = b.text().lines().map(|l| split_id(l).0).collect();
    let want: Vec<&String> = expected
        .iter()
        .filter(|l| l.contains("\"source\":\"examples/applications/05-batch.jsonl:"))
        .collect();
    assert_eq!(got.iter().collect::<Vec<_>>(), want);
}

#[test]
fn bad_bodies_get_clear_errors() {
    let s = Server::start(&[
        "--max-body",
        "4096",
        "--max-batch-lines",
        "3",
        "--max-batch-body",
        "16384",
    ]);
    let r = s.post("/v1/decide", b"{\"id\": ");
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().contains("JSON"), "{}", r.text());
    let r = s.post("/v1/decide", b"[1, 2]");
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["decision"], "error");
    let r = s.post("/v1/decide", b"{\"id\": \"X\", \"applicant\": {\"nam\": \"A\"}}");
    assert_eq!(r.status, 422);
    assert!(
        r.json()["error"].as_str().unwrap().contains("applicant"),
        "{}",
        r.text()
    );
    let r = s.post("/v1/decide?as_of=yesterday", &application());
    assert_eq!(r.status, 400);
    assert!(r.text().contains("as_of"));
    let big = vec![b' '; 5000];
    assert_eq!(s.post("/v1/decide", &big).status, 413);
    assert_eq!(s.post("/v1/explain", &big).status, 413);
    assert_eq!(s.post("/v1/explain", b"{oops").status, 400);
    let four = [application(), application(), application(), application()].join(&b'\n');
    let r = s.post("/v1/decide/batch", &four);
    assert_eq!(r.status, 413);
    assert!(r.text().contains("at most 3"));
    let big_batch = [application(), vec![b' '; 17_000]].concat();
    assert_eq!(s.post("/v1/decide/batch", &big_batch).status, 413);
    let long = "x".repeat(513);
    let r = s.post(&format!("/v1/decide?source={long}"), &application());
    assert_eq!(r.status, 400);
    assert!(r.text().contains("source"));
    // The service is still well after all that.
    assert_eq!(s.post("/v1/decide", &application()).status, 200);
}

#[test]
fn a_token_is_required_except_for_health() {
    let d = temp_dir("token");
    std::fs::write(d.join("token"), "s3cret\n").unwrap();
    let s = Server::start(&["--token-file", d.join("token").to_str().unwrap()]);
    assert_eq!(s.post("/v1/decide", &application()).status, 401);
    assert_eq!(s.get("/v1/policy").status, 401);
    assert_eq!(s.get("/metrics").status, 401);
    let wrong = request(&s.addr, "GET", "/v1/policy", &[("Authorization", "Bearer nope")], b"");
    assert_eq!(wrong.status, 401);
    assert_eq!(s.get("/healthz").status, 200);
    assert_eq!(s.get("/readyz").status, 200);
    let ok = request(
        &s.addr,
        "POST",
        "/v1/decide",
        &[("Authorization", "Bearer s3cret")],
        &application(),
    );
    assert_eq!(ok.status, 200);
}

#[test]
fn decisions_are_logged_with_sensitive_fields_masked() {
    let d = temp_dir("log");
    let log = d.join("decisions.jsonl");
    let s = Server::start(&["--decision-log", log.to_str().unwrap()]);
    let app = br#"{"id":"M-1","applicant":{"name":"Li Wei","phone":"13812345678"},"documents":[{"kind":"passport","number":"E12345678","photo_legible":true}],"bank_card":{"bank":"ICBC","number":"6222021234567890123","card_type":"savings","holder_name":"Li Wei"}}"#;
    let r = s.post("/v1/decide", app);
    assert_eq!(r.status, 200);
    let (_, id) = split_id(r.text().trim_end());
    let text = std::fs::read_to_string(&log).unwrap();
    let entry: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(entry["decision_id"], id.as_str());
    assert_eq!(entry["application"]["documents"][0]["number"], "*****5678");
    assert_eq!(entry["application"]["bank_card"]["number"], "***************0123");
    assert_eq!(entry["application"]["applicant"]["name"], "Li Wei");
    assert_eq!(entry["decision"], r.json());
    assert_eq!(entry["policy"]["hash"], r.json()["policy"]["hash"]);
    assert!(entry["time"].as_str().unwrap().ends_with('Z'));
    assert!(!text.contains("6222021234567890123"));
}

#[test]
fn an_unwritable_log_refuses_to_decide() {
    // Every write to /dev/full fails (ENOSPC).
    let s = Server::start(&["--decision-log", "/dev/full"]);
    let r = s.post("/v1/decide", &application());
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.text().contains("could not be logged"));
    assert!(!r.text().contains("\"decision\""));
    let b = s.post("/v1/decide/batch", &application());
    assert_eq!(b.status, 503);
    assert!(s.get("/metrics").text().contains("kycrules_decision_log_errors_total"));
}

#[test]
fn the_log_rotates_by_size() {
    let d = temp_dir("rotate");
    let log = d.join("d.jsonl");
    let s = Server::start(&[
        "--decision-log",
        log.to_str().unwrap(),
        "--decision-log-max-mb",
        "1",
        "--decision-log-keep",
        "2",
    ]);
    // About 650 bytes a line: 5,000 lines are over three files' worth.
    let batch = vec![application(); 5000].join(&b'\n');
    assert_eq!(s.post("/v1/decide/batch", &batch).status, 200);
    let lines = |p: &Path| std::fs::read_to_string(p).map(|t| t.lines().count()).unwrap_or(0);
    let path = |n: usize| PathBuf::from(format!("{}.{n}", log.display()));
    assert!(path(1).exists() && path(2).exists(), "no rotation");
    assert!(!path(3).exists());
    for p in [log.clone(), path(1), path(2)] {
        assert!(
            std::fs::metadata(&p).unwrap().len() <= 1 << 20,
            "{} too large",
            p.display()
        );
    }
    assert!(lines(&log) + lines(&path(1)) + lines(&path(2)) < 5000);
}

#[test]
fn reload_on_sighup_good_broken_and_failing_tests() {
    let policy = policy_copy("reload");
    let s = Server::start(&["--policy", policy.to_str().unwrap()]);
    let first = s.policy_hash();

    // A good change: a new hash, on the next decision.
    let header = policy.join("00-policy.rules");
    let text = std::fs::read_to_string(&header).unwrap();
    std::fs::write(&header, text.replace("version \"2026.11\"", "version \"2026.12\"")).unwrap();
    // Hidden folders (Kubernetes' `..data` of a ConfigMap) are not read twice.
    std::fs::create_dir_all(policy.join("..2026_12_07")).unwrap();
    std::fs::copy(&header, policy.join("..2026_12_07/00-policy.rules")).unwrap();
    s.signal("HUP");
    let p = s.wait_policy(|p| p["hash"] != first.as_str());
    assert_eq!(p["version"], "2026.12");
    assert_eq!(p["last_reload"]["ok"], true);
    let second = p["hash"].as_str().unwrap().to_owned();
    let d = s.post("/v1/decide", &application()).json();
    assert_eq!(d["policy"]["hash"], second.as_str());

    // A broken policy: the old one keeps serving, the diagnostics are shown.
    std::fs::write(policy.join("99-broken.rules"), "rule oops {\n").unwrap();
    s.signal("HUP");
    let p = s.wait_policy(|p| p["last_reload"]["ok"] == false);
    assert_eq!(p["hash"], second.as_str());
    let diags = p["last_reload"]["diagnostics"].to_string();
    assert!(diags.contains("99-broken.rules"), "{diags}");
    assert_eq!(
        s.post("/v1/decide", &application()).json()["policy"]["hash"],
        second.as_str()
    );
    assert!(
        s.get("/metrics")
            .text()
            .contains("kycrules_reloads_total{result=\"failed\"} 1")
    );
    std::fs::remove_file(policy.join("99-broken.rules")).unwrap();

    // A policy that compiles but fails its own tests: kept out too.
    let v2 = std::fs::read_to_string(&header).unwrap();
    std::fs::write(&header, v2.replace("version \"2026.12\"", "version \"2026.13\"")).unwrap();
    let tests = policy.join("tests/applicant.yaml");
    let mut t = std::fs::read_to_string(&tests).unwrap();
    t.push_str("  - name: wrong on purpose\n    base: ready\n    decision: reject\n");
    std::fs::write(&tests, t).unwrap();
    let before = s.get("/v1/policy").json()["last_reload"]["at"].clone();
    s.signal("HUP");
    let p = s.wait_policy(|p| p["last_reload"]["at"] != before);
    assert_eq!(p["last_reload"]["ok"], false);
    assert_eq!(p["hash"], second.as_str());
    assert!(p["last_reload"]["diagnostics"].to_string().contains("wrong on purpose"));
    assert_eq!(
        s.post("/v1/decide", &application()).json()["policy"]["version"],
        "2026.12"
    );
}

#[test]
fn a_reload_that_does_not_prove_its_claim_is_refused() {
    // Start on the 16x/17x/19x edit; the shipped rules are a proven tightening
    // of it, and going back to the edit is refuted.
    let policy = policy_copy("claim");
    let edit = root().join("examples/policy-change/rules");
    let copy_rules = |from: &std::path::Path| {
        for e in std::fs::read_dir(from).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "rules") {
                std::fs::copy(&p, policy.join(p.file_name().unwrap())).unwrap();
            }
        }
    };
    // The policy's tests pin the shipped behaviour; this test is about the claim alone.
    std::fs::remove_dir_all(policy.join("tests")).unwrap();
    copy_rules(&edit);
    let s = Server::start(&["--policy", policy.to_str().unwrap(), "--require-claim", "tightens"]);
    let loose = s.policy_hash();

    copy_rules(&root().join("rules"));
    s.signal("HUP");
    let p = s.wait_policy(|p| p["hash"] != loose.as_str());
    assert_eq!(p["last_reload"]["ok"], true);
    let tight = p["hash"].as_str().unwrap().to_owned();

    copy_rules(&edit);
    let before = p["last_reload"]["at"].clone();
    s.signal("HUP");
    let p = s.wait_policy(|p| p["last_reload"]["at"] != before);
    assert_eq!(p["last_reload"]["ok"], false);
    assert_eq!(p["hash"], tight.as_str());
    let diags = p["last_reload"]["diagnostics"].to_string();
    assert!(diags.contains("refuted"), "{diags}");
    assert!(diags.contains("phone-mainland"), "{diags}");
}

#[test]
fn watch_reloads_on_file_changes() {
    let policy = policy_copy("watch");
    let s = Server::start(&["--policy", policy.to_str().unwrap(), "--watch", "--debounce-ms", "100"]);
    let first = s.policy_hash();
    let header = policy.join("00-policy.rules");
    let text = std::fs::read_to_string(&header).unwrap();
    // Saved as editors do: a new file renamed over the old one.
    let tmp = policy.join(".00-policy.rules.swp");
    std::fs::write(&tmp, text.replace("version \"2026.11\"", "version \"2026.14\"")).unwrap();
    std::fs::rename(&tmp, &header).unwrap();
    let p = s.wait_policy(|p| p["hash"] != first.as_str());
    assert_eq!(p["version"], "2026.14");
}

/// Clients hammer the service; it is killed with SIGKILL mid-run; every
/// decision a client received is in the log.
#[test]
fn kill_9_under_load_loses_no_answered_decision() {
    let d = temp_dir("kill9");
    let log = d.join("d.jsonl");
    let s = Server::start(&["--decision-log", log.to_str().unwrap()]);
    let addr = s.addr.clone();
    let stop = Instant::now() + Duration::from_secs(3);
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                while Instant::now() < stop {
                    match try_request(&addr, "POST", "/v1/decide", &[], &application()) {
                        Ok(r) if r.status == 200 => ids.push(split_id(r.text().trim_end()).1),
                        _ => break,
                    }
                }
                ids
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    s.signal("KILL");
    let received: Vec<String> = clients.into_iter().flat_map(|c| c.join().unwrap()).collect();
    assert!(received.len() > 20, "only {} decisions before the kill", received.len());
    let text = std::fs::read_to_string(&log).unwrap();
    let logged: std::collections::HashSet<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| v["decision_id"].as_str().unwrap().to_owned())
        .collect();
    for id in &received {
        assert!(logged.contains(id), "decision {id} was answered but is not in the log");
    }
}

/// SIGTERM while a large batch is in flight: the batch is answered in full,
/// logged, and the process exits cleanly.
#[test]
fn sigterm_drains_requests_in_flight() {
    let d = temp_dir("drain");
    let log = d.join("d.jsonl");
    let mut s = Server::start(&["--decision-log", log.to_str().unwrap()]);
    let n = 20_000;
    let batch = vec![application(); n].join(&b'\n');
    let addr = s.addr.clone();
    let client = std::thread::spawn(move || request(&addr, "POST", "/v1/decide/batch", &[], &batch));
    // Wait until the batch is being served, then ask the service to stop.
    let start = Instant::now();
    while !std::fs::metadata(&log).is_ok_and(|m| m.len() > 0) {
        assert!(start.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(5));
    }
    s.signal("TERM");
    let r = client.join().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.text().lines().count(), n);
    let status = s.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), n);
    // New connections are refused once it is gone.
    assert!(TcpStream::connect(&s.addr).is_err());
}

/// Reloads while clients decide: no request fails, and no batch is decided
/// by a mix of policies (every line of one answer carries one hash).
#[test]
fn reload_under_load_fails_nothing_and_never_mixes() {
    let policy = policy_copy("underload");
    let s = Server::start(&["--policy", policy.to_str().unwrap()]);
    let addr = s.addr.clone();
    let stop = Instant::now() + Duration::from_secs(4);
    let batch = vec![application(); 2000].join(&b'\n');
    let batcher = {
        let addr = addr.clone();
        std::thread::spawn(move || {
            let mut hashes = std::collections::HashSet::new();
            let mut n = 0;
            while Instant::now() < stop {
                let r = request(&addr, "POST", "/v1/decide/batch", &[], &batch);
                assert_eq!(r.status, 200);
                let lines: Vec<Value> = r.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
                assert_eq!(lines.len(), 2000);
                let first = lines[0]["policy"]["hash"].clone();
                assert!(
                    lines.iter().all(|l| l["policy"]["hash"] == first),
                    "a batch mixed policies"
                );
                hashes.insert(first.to_string());
                n += 1;
            }
            (n, hashes)
        })
    };
    let singles = std::thread::spawn(move || {
        let mut n = 0;
        while Instant::now() < stop {
            let r = request(&addr, "POST", "/v1/decide", &[], &application());
            assert_eq!(r.status, 200, "{}", r.text());
            n += 1;
        }
        n
    });
    let header = policy.join("00-policy.rules");
    let text = std::fs::read_to_string(&header).unwrap();
    let mut reloads = 0;
    let mut seen = std::collections::HashSet::new();
    while Instant::now() < stop {
        let version = format!("version \"2026.{}\"", 20 + reloads % 2);
        std::fs::write(&header, text.replace("version \"2026.11\"", &version)).unwrap();
        let before = s.get("/v1/policy").json()["last_reload"]["at"].clone();
        s.signal("HUP");
        let p = s.wait_policy(|p| p["last_reload"]["at"] != before);
        assert_eq!(p["last_reload"]["ok"], true);
        seen.insert(p["hash"].to_string());
        reloads += 1;
    }
    let (batches, batch_hashes) = batcher.join().unwrap();
    let n = singles.join().unwrap();
    assert!(reloads >= 2 && seen.len() == 2, "{reloads} reloads");
    assert!(batches >= 1 && n >= 10, "{batches} batches, {n} decisions");
    assert!(!batch_hashes.is_empty());
}
