//! Serving the built web app: MIME types, caching, compression, client-side routes, the strict
//! Content-Security-Policy — and a clear page when the app was not built.

use baton_shared::api::Role;
use baton_tests::database::Kind;
use baton_tests::server::{TestServer, built_web_dir};
use reqwest::StatusCode;

fn header(response: &reqwest::Response, name: &str) -> String {
    response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

async fn server_with_web_app() -> anyhow::Result<TestServer> {
    let web = built_web_dir();
    anyhow::ensure!(
        web.join("index.html").is_file(),
        "no built web app in {}: run the tests with `cargo xtask test`",
        web.display()
    );
    TestServer::start_with(Kind::Sqlite, |config| config.web_dir = web).await
}

/// The `/assets/<hash>` prefix `index.html` refers to.
fn assets_prefix(index: &str) -> anyhow::Result<String> {
    let start = index.find("/assets/").ok_or_else(|| anyhow::anyhow!("index.html names no asset: {index}"))?;
    let hash: String = index[start + "/assets/".len()..].chars().take_while(char::is_ascii_hexdigit).collect();
    anyhow::ensure!(hash.len() == 16, "unexpected asset directory in {index}");
    Ok(format!("/assets/{hash}"))
}

#[tokio::test]
async fn the_page_and_its_assets_have_the_right_types_and_caching() -> anyhow::Result<()> {
    let server = server_with_web_app().await?;
    let client = server.client();

    let page = client.get("/").await?;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&page, "cache-control"), "no-cache");
    let csp = header(&page, "content-security-policy");
    assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let index = page.text().await?;
    let scripts: Vec<&str> = index.split("<script").skip(1).collect();
    assert!(!scripts.is_empty(), "the page loads its app");
    for script in scripts {
        let tag = script.split('>').next().unwrap_or_default();
        assert!(tag.contains("src="), "inline script (the CSP forbids it): <script{tag}>");
    }
    let assets = assets_prefix(&index)?;

    for (file, mime) in [
        ("baton_app_bg.wasm", "application/wasm"),
        ("baton_app.js", "text/javascript"),
        ("boot.js", "text/javascript"),
        ("style.css", "text/css"),
    ] {
        let response = client.get(&format!("{assets}/{file}")).await?;
        assert_eq!(response.status(), StatusCode::OK, "{file}");
        assert!(header(&response, "content-type").starts_with(mime), "{file}: {}", header(&response, "content-type"));
        assert_eq!(header(&response, "cache-control"), "public, max-age=31536000, immutable", "{file}");
    }

    let missing = client.get(&format!("{assets}/nope.js")).await?;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&missing, "cache-control"), "no-store", "a 404 is never cached for a year");
    Ok(())
}

#[tokio::test]
async fn the_wasm_bundle_is_compressed_for_browsers_that_accept_it() -> anyhow::Result<()> {
    let server = server_with_web_app().await?;
    let client = server.client();
    let index = client.get("/").await?.text().await?;
    let wasm_path = format!("{}/baton_app_bg.wasm", assets_prefix(&index)?);
    let plain = client.get(&wasm_path).await?.bytes().await?;
    assert_eq!(&plain[..4], b"\0asm", "a WebAssembly module");
    let compressed = client.request(reqwest::Method::GET, &wasm_path).header("accept-encoding", "gzip").send().await?;
    assert_eq!(header(&compressed, "content-encoding"), "gzip");
    let compressed_size = compressed.bytes().await?.len();
    assert!(compressed_size < plain.len() / 2, "gzip {compressed_size} vs {} bytes", plain.len());
    Ok(())
}

#[tokio::test]
async fn client_side_routes_get_the_app() -> anyhow::Result<()> {
    let server = server_with_web_app().await?;
    let response = server.client().get("/inbox/conversations/42").await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await?.contains("boot.js"));
    Ok(())
}

#[tokio::test]
async fn without_a_built_app_pages_explain_and_the_api_works() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let page = server.client().get("/").await?;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.text().await?.contains("cargo xtask build-web"));
    let (client, _) = server.logged_in("Api User", Role::Agent).await?;
    assert_eq!(client.get("/api/me").await?.status(), StatusCode::OK);
    Ok(())
}
