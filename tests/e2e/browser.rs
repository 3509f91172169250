//! A headless Chromium driven over WebDriver (Debian's chromium and chromium-driver), with
//! waits that poll and a screenshot under target/console-screenshots when a step fails.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);

pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/console-screenshots")
}

fn binary(env: &str, default: &str) -> PathBuf {
    std::env::var_os(env).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(default))
}

pub struct Browser {
    pub client: Client,
    driver: Child,
    pub downloads: tempfile::TempDir,
    base: String,
    name: String,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium at 1280×800 (or `size`).
    pub async fn start(base: &str, name: &str, size: (u32, u32)) -> Browser {
        let driver_path = binary("ZERODB_TEST_CHROMEDRIVER", "/usr/bin/chromedriver");
        assert!(
            driver_path.exists(),
            "{} is missing: scripts/test installs chromium and chromium-driver",
            driver_path.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < WAIT, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let downloads = tempfile::tempdir().expect("download dir");
        let mut caps = serde_json::Map::new();
        let mut options = json!({
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                format!("--window-size={},{}", size.0, size.1),
            ],
            "prefs": {
                "download.default_directory": downloads.path(),
                "download.prompt_for_download": false,
            },
        });
        if let Some(chromium) = std::env::var_os("ZERODB_TEST_CHROMIUM") {
            options["binary"] = json!(chromium.to_string_lossy());
        }
        caps.insert("goog:chromeOptions".into(), options);
        caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&url)
            .await
            .expect("a WebDriver session");
        Browser { client, driver, downloads, base: base.to_owned(), name: name.to_owned() }
    }

    pub async fn open(&self, hash: &str) {
        let url = format!("{}/console{hash}", self.base);
        self.client.goto(&url).await.expect("navigate");
    }

    /// Navigates inside the console without a reload (the token lives in page memory).
    pub async fn route(&self, hash: &str) {
        self.client
            .execute("window.location.hash = arguments[0]; return true;", vec![json!(hash)])
            .await
            .expect("set the hash");
    }

    pub async fn shot(&self, step: &str) -> PathBuf {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{}-{step}.png", self.name));
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(&path, png);
        }
        path
    }

    /// Fails the test with a screenshot and the page's alert text.
    pub async fn fail(&self, step: &str, why: &str) -> ! {
        let path = self.shot(&format!("failed-{step}")).await;
        let alert = self.text_of("#alert").await.unwrap_or_default();
        let logs = self
            .client
            .execute("return document.title + ' ' + window.location.hash;", vec![])
            .await
            .unwrap_or(Value::Null);
        panic!("{step}: {why}; alert: {alert:?}; page: {logs}; screenshot: {}", path.display());
    }

    async fn text_of(&self, css: &str) -> Option<String> {
        let el = self.client.find(Locator::Css(css)).await.ok()?;
        el.text().await.ok()
    }

    /// The first element matching `css`, waiting for it.
    pub async fn el(&self, step: &str, css: &str) -> Element {
        match self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
            Ok(el) => el,
            Err(e) => self.fail(step, &format!("no element {css}: {e}")).await,
        }
    }

    /// The button (or link) whose text is `text`, inside `scope` (a CSS selector).
    pub async fn button(&self, step: &str, scope: &str, text: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Ok(all) =
                self.client.find_all(Locator::Css(&format!("{scope} button, {scope} a"))).await
            {
                for el in all {
                    if el.text().await.is_ok_and(|t| t.trim() == text)
                        && el.is_enabled().await.unwrap_or(false)
                    {
                        return el;
                    }
                }
            }
            if started.elapsed() > WAIT {
                self.fail(step, &format!("no enabled button {text:?} in {scope}")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, step: &str, scope: &str, text: &str) {
        let el = self.button(step, scope, text).await;
        if let Err(e) = el.click().await {
            self.fail(step, &format!("click {text:?}: {e}")).await;
        }
    }

    pub async fn fill(&self, step: &str, css: &str, value: &str) {
        let el = self.el(step, css).await;
        let _ = el.clear().await;
        if let Err(e) = el.send_keys(value).await {
            self.fail(step, &format!("type into {css}: {e}")).await;
        }
    }

    /// Waits until the text of `css` contains `wanted`; answers how long it took.
    pub async fn wait_text(&self, step: &str, css: &str, wanted: &str) -> Duration {
        let started = Instant::now();
        loop {
            if self.text_of(css).await.is_some_and(|t| t.contains(wanted)) {
                return started.elapsed();
            }
            if started.elapsed() > WAIT {
                let seen = self.text_of(css).await.unwrap_or_default();
                self.fail(step, &format!("{css} never showed {wanted:?} (it shows {seen:?})"))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `count(css)` is `n`.
    pub async fn wait_count(&self, step: &str, css: &str, n: usize) {
        let started = Instant::now();
        loop {
            let found = self.client.find_all(Locator::Css(css)).await.map_or(0, |v| v.len());
            if found == n {
                return;
            }
            if started.elapsed() > WAIT {
                self.fail(step, &format!("{css} matched {found} elements, not {n}")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Page-level problems: horizontal overflow of the document at this size.
    pub async fn overflows(&self) -> bool {
        let v = self
            .client
            .execute("return document.documentElement.scrollWidth > window.innerWidth + 1;", vec![])
            .await
            .unwrap_or(Value::Bool(true));
        v.as_bool().unwrap_or(true)
    }

    pub async fn quit(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
