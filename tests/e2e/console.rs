//! The web console in a real headless Chromium: sign up, a project and its database, a
//! table with rows, an API key, a vector search, the live event tail, a file, and a second
//! user who sees none of it. Screenshots of each page land in target/console-screenshots.

use crate::browser::Browser;
use crate::helpers::*;
use serde_json::json;
use std::time::{Duration, Instant};
use zerodb_client::{Client, NewEvent, NewVector};

const PASSWORD: &str = "correct horse battery";
/// WebDriver's Tab and Enter keys.
const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

async fn sign_up(b: &Browser, email: &str) {
    b.open("#/signup").await;
    b.fill("sign up", "form[aria-label='Sign up'] input[name=email]", email).await;
    b.fill("sign up", "form[aria-label='Sign up'] input[name=password]", PASSWORD).await;
    b.click("sign up", "form[aria-label='Sign up']", "Create account").await;
    b.wait_text("signed in", "[data-testid=whoami]", email).await;
    b.wait_text("projects page", "h1", "Projects").await;
}

async fn api_user(app: &TestApp, email: &str) -> Client {
    let login = app.client.login(email, PASSWORD).await.expect("login");
    app.client.with_token(&login.access_token)
}

#[tokio::test]
async fn the_console_drives_every_area_and_keeps_users_apart() {
    let app = spawn_app().await;
    let b = Browser::start(&app.address, "desktop", (1280, 800)).await;

    // Sign up; create a project and enable its database.
    sign_up(&b, "ada@example.com").await;
    b.shot("projects").await;
    b.fill("project", "form[aria-label='New project'] input[name=project_name]", "shop").await;
    b.click("project", "form[aria-label='New project']", "Create project").await;
    b.wait_text("project listed", "table[aria-label=Projects]", "shop").await;
    b.click("open project", "table[aria-label=Projects]", "shop").await;
    b.click("enable", "main", "Enable database").await;
    b.wait_text("enabled", "[data-testid=db-state]", "enabled").await;
    b.shot("database").await;
    let ada = api_user(&app, "ada@example.com").await;
    let pid = ada.list_projects(&Default::default()).await.expect("projects").items[0].project_id;

    // A table from the form; rows inserted, filtered, edited and deleted in the grid.
    b.route(&format!("#/p/{pid}/tables")).await;
    b.fill("table", "form[aria-label='New table'] input[name=table_name]", "items").await;
    b.fill("table", ".column-def:nth-of-type(1) input[name=column]", "name").await;
    b.el("table", ".column-def:nth-of-type(1) input[name=required]").await.click().await.unwrap();
    b.click("table", "form[aria-label='New table']", "Add column").await;
    b.fill("table", ".column-def:nth-of-type(2) input[name=column]", "qty").await;
    let qty_type = b.el("table", ".column-def:nth-of-type(2) select[name=type]").await;
    qty_type.select_by_value("integer").await.unwrap();
    b.click("table", "form[aria-label='New table']", "Create table").await;
    b.click("open table", "table[aria-label=Tables]", "items").await;
    for (name, qty) in [("apple", "3"), ("pear", "7"), ("plum", "9")] {
        b.fill("insert", "form[aria-label='Insert row'] input[name=name]", name).await;
        b.fill("insert", "form[aria-label='Insert row'] input[name=qty]", qty).await;
        b.click("insert", "form[aria-label='Insert row']", "Insert row").await;
        b.wait_text("inserted", "table[aria-label=Rows]", name).await;
    }
    b.wait_text("count", "main", "3 matching rows").await;
    b.fill("filter", "input[name=filter]", r#"{"qty": {"$gte": 5}}"#).await;
    b.click("filter", "form[aria-label='Filter rows']", "Apply").await;
    b.wait_text("filtered", "main", "2 matching rows").await;
    b.wait_count("filtered rows", "table[aria-label=Rows] tbody tr", 2).await;
    b.shot("table").await;
    b.click("edit", "table[aria-label=Rows] tbody tr:first-child", "Edit").await;
    b.fill("edit", "table[aria-label=Rows] input[aria-label=qty]", "11").await;
    b.click("edit", "table[aria-label=Rows]", "Save").await;
    b.wait_text("saved", "table[aria-label=Rows] tbody tr:first-child", "11").await;
    b.click("delete row", "table[aria-label=Rows] tbody tr:last-child", "Delete").await;
    b.wait_text("deleted", "main", "1 matching rows").await;
    let rows = ada.query_rows(pid, "items", &Default::default()).await.expect("rows");
    let left: Vec<(String, i64)> = rows
        .items
        .iter()
        .map(|r| {
            (r.data["name"].as_str().unwrap_or("").to_owned(), r.data["qty"].as_i64().unwrap_or(0))
        })
        .collect();
    assert_eq!(left, [("apple".to_owned(), 3), ("pear".to_owned(), 11)], "what the grid did");

    // An API key with one scope: shown once, works, and stops working once revoked.
    b.route(&format!("#/p/{pid}/keys")).await;
    b.fill("key", "form[aria-label='New API key'] input[name=name]", "ci").await;
    b.el("key", "input[name='scope:tables:read']").await.click().await.unwrap();
    b.click("key", "form[aria-label='New API key']", "Create key").await;
    let key = b.el("key", "[data-testid=new-key]").await.text().await.unwrap();
    b.shot("keys").await;
    let http = reqwest::Client::new();
    let tables_url = format!("{}/api/v1/projects/{pid}/database/tables", app.address);
    let with_key = |key: &str| http.get(&tables_url).header("X-API-Key", key.to_owned());
    assert_eq!(with_key(&key).send().await.unwrap().status(), 200, "the new key works");
    b.click("revoke", "table[aria-label='API keys']", "Revoke").await;
    b.wait_text("revoked", "#alert", "revoked").await;
    assert_eq!(with_key(&key).send().await.unwrap().status(), 401, "a revoked key is refused");

    // Documents embedded by the server; hybrid text search from the console.
    let docs = ["red apple pie recipe", "blue ocean waves at dawn", "green forest hiking trail"];
    for doc in docs {
        let v = NewVector::text(doc).with_metadata(json!({"kind": "doc"}));
        ada.upsert_vector(pid, &v).await.expect("upsert");
    }
    b.route(&format!("#/p/{pid}/vectors")).await;
    b.wait_text("namespaces", "table[aria-label=Namespaces]", "default").await;
    b.fill("search", "form[aria-label='Vector search'] textarea[name=query]", "apple pie").await;
    b.click("search", "form[aria-label='Vector search']", "Search").await;
    b.wait_text("hits", "table[aria-label='Search results'] tbody tr:first-child", docs[0]).await;
    b.wait_text("hybrid", "table[aria-label='Search results'] tbody tr:first-child", "lexical")
        .await;
    b.shot("vectors").await;

    // The live tail shows a published event within 2 s; pause, then resume from the offset.
    b.route(&format!("#/p/{pid}/events")).await;
    b.click("tail", "main", "Start").await;
    b.wait_text("tail", "[data-testid=tail-state]", "live").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let published = Instant::now();
    ada.publish_event(pid, &NewEvent::new("orders", json!({"n": 1}))).await.expect("publish");
    b.wait_text("tail", "table[aria-label='Live events'] tbody", "orders").await;
    let seen_after = published.elapsed();
    println!("published event shown in the live tail after {seen_after:?}");
    assert!(seen_after < Duration::from_secs(2), "shown after {seen_after:?}");
    b.click("pause", "main", "Pause").await;
    b.wait_text("paused", "[data-testid=tail-state]", "paused").await;
    ada.publish_event(pid, &NewEvent::new("orders", json!({"n": 2}))).await.expect("publish");
    tokio::time::sleep(Duration::from_millis(500)).await;
    b.wait_count("paused", "table[aria-label='Live events'] tbody tr", 1).await;
    b.click("resume", "main", "Resume").await;
    b.wait_count("resumed", "table[aria-label='Live events'] tbody tr", 2).await;
    b.shot("events").await;

    // A file: uploaded from the picker, downloaded, and fetched through a signed link.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    let content = "console upload check\n".repeat(1000);
    std::fs::write(&path, &content).unwrap();
    b.route(&format!("#/p/{pid}/files")).await;
    let picker = b.el("upload", "input[type=file]").await;
    picker.send_keys(&path.to_string_lossy()).await.unwrap();
    b.wait_text("uploaded", "table[aria-label=Files]", "notes.txt").await;
    b.click("download", "table[aria-label=Files]", "Download").await;
    let saved = b.downloads.path().join("notes.txt");
    let started = Instant::now();
    while std::fs::read_to_string(&saved).ok().as_deref() != Some(content.as_str()) {
        if started.elapsed() > Duration::from_secs(15) {
            b.fail("download", "the file never arrived whole in the download folder").await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.click("signed link", "table[aria-label=Files]", "Signed link").await;
    let link = b.el("signed link", "[data-testid=signed-link]").await;
    let href = link.attr("href").await.unwrap().expect("href");
    assert_eq!(http.get(&href).send().await.unwrap().text().await.unwrap(), content);
    b.shot("files").await;

    // The other pages render for this project.
    for (section, heading) in
        [("memory", "Memory"), ("rlhf", "RLHF feedback"), ("logs", "Agent logs")]
    {
        b.route(&format!("#/p/{pid}/{section}")).await;
        b.wait_text(section, "h1", heading).await;
        b.shot(section).await;
    }

    // Another user sees none of it, even at its address.
    b.click("sign out", "#user", "Sign out").await;
    b.wait_text("signed out", "h1", "Sign in").await;
    sign_up(&b, "eve@example.com").await;
    b.wait_text("no projects", "main", "Nothing here yet.").await;
    b.route(&format!("#/p/{pid}/database")).await;
    b.wait_text("stranger", "#alert", "not_found").await;
    b.route(&format!("#/p/{pid}/tables/items")).await;
    b.wait_text("stranger", "#alert", "not_found").await;
    b.quit().await;
}

/// A phone-sized viewport: keyboard-only sign-in, and no page wider than the screen.
#[tokio::test]
async fn the_console_works_by_keyboard_on_a_phone_sized_screen() {
    let app = spawn_app().await;
    let owner = app.user("kim@example.com").await;
    app.enabled_project(&owner, "pocket").await;
    let b = Browser::start(&app.address, "phone", (390, 844)).await;
    b.open("#/signin").await;
    let email = b.el("sign in", "form[aria-label='Sign in'] input[name=email]").await;
    email.send_keys(&format!("kim@example.com{TAB}{PASSWORD}{ENTER}")).await.unwrap();
    b.wait_text("signed in", "[data-testid=whoami]", "kim@example.com").await;
    b.wait_text("projects", "table[aria-label=Projects]", "pocket").await;
    assert!(!b.overflows().await, "the projects page fits a phone screen");
    b.shot("projects").await;
    b.click("open", "table[aria-label=Projects]", "pocket").await;
    b.wait_text("database", "[data-testid=db-state]", "enabled").await;
    assert!(!b.overflows().await, "the database page fits a phone screen");
    b.shot("database").await;

    // The console's pages carry a policy that allows no inline script.
    let res = reqwest::get(format!("{}/console", app.address)).await.unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let missing = reqwest::get(format!("{}/console/nope.js", app.address)).await.unwrap();
    assert_eq!(missing.status(), 404);
    b.quit().await;
}

/// An administrator sees system statistics, every project and usage per day as a chart.
#[tokio::test]
async fn administrators_see_every_project_and_usage_per_day() {
    let app = spawn_app().await;
    let owner = app.user("lee@example.com").await;
    app.enabled_project(&owner, "lees-project").await;
    app.admin().await;
    let b = Browser::start(&app.address, "admin", (1280, 800)).await;
    b.open("#/signin").await;
    b.fill("sign in", "form[aria-label='Sign in'] input[name=email]", "root@example.com").await;
    b.fill("sign in", "form[aria-label='Sign in'] input[name=password]", PASSWORD).await;
    b.click("sign in", "form[aria-label='Sign in']", "Sign in").await;
    b.wait_text("signed in", "[data-testid=whoami]", "root@example.com").await;
    b.click("admin", "#user", "Admin").await;
    b.wait_text("admin", "h1", "Administration").await;
    b.wait_text("projects", "table[aria-label='All projects']", "lees-project").await;
    b.wait_count("usage chart", "svg.chart rect.bar", 30).await;
    b.shot("admin").await;
    b.quit().await;
}
