//! The login throttle is shared by every server process on one database: two real `opsflow`
//! processes on one SQLite file, hit with parallel wrong passwords at once, never check more
//! than the limit between them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;

const PASSWORD: &str = "Sturdy-Otter-4821-Lantern";
const LIMIT: usize = 5;

/// A server process, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

async fn start(dir: &Path, db_url: &str) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_opsflow"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--database", db_url])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("OPSFLOW_JWT_SECRET", "two-processes-share-this-secret-0123456789")
        .env("OPSFLOW_LLM_PROVIDER", "offline")
        .env("OPSFLOW_WORKERS", "0")
        .env("OPSFLOW_ARGON2_MEMORY_KIB", "1024")
        .env("OPSFLOW_LOGIN_MAX_FAILURES", LIMIT.to_string())
        .env("OPSFLOW_LOGIN_LOCKOUT", "10m")
        .env("OPSFLOW_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the opsflow binary");
    let mut server = Server { child, base: format!("http://127.0.0.1:{port}") };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!("the server exited before it was ready: {status}");
        }
        if let Ok(r) = client.get(format!("{}/api/health", server.base)).send().await
            && r.status().is_success()
        {
            return server;
        }
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn login(client: &reqwest::Client, base: &str, password: &str) -> (u16, Option<String>) {
    let r = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": "ada@example.com", "password": password}))
        .send()
        .await
        .expect("request reaches the server");
    let status = r.status().as_u16();
    let retry = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, retry)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_logins_across_two_processes_never_exceed_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("shared.db").display());
    // One after the other, so only the first creates the database (and its secret key file).
    let a = start(dir.path(), &db_url).await;
    let b = start(dir.path(), &db_url).await;
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}/api/auth/signup", a.base))
        .json(&json!({
            "tenant_name": "Acme", "user_name": "Ada Admin",
            "email": "ada@example.com", "password": PASSWORD,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());

    // 40 wrong passwords at once, alternating between the two processes.
    let answers = join_all((0..40).map(|i| {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let client = &client;
        async move { login(client, base, &format!("wrong-guess-{i}")).await }
    }))
    .await;
    let checked = answers.iter().filter(|(s, _)| *s == 401).count();
    let refused = answers.iter().filter(|(s, _)| *s == 429).count();
    assert_eq!(checked + refused, answers.len(), "only 401 or 429: {answers:?}");
    assert_eq!(checked, LIMIT, "the two processes together checked {checked} passwords");
    for (_, retry) in answers.iter().filter(|(s, _)| *s == 429) {
        let wait: u64 = retry.as_deref().expect("Retry-After").parse().unwrap();
        assert!((1..=600).contains(&wait), "Retry-After {wait}");
    }
    // Both processes now refuse even the right password.
    for base in [&a.base, &b.base] {
        assert_eq!(login(&client, base, PASSWORD).await.0, 429);
    }
}
