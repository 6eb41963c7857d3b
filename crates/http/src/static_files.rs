//! The web UI: the built `frontend/dist`, embedded in the binary, with SPA fallback.

use poem::http::{StatusCode, header};
use poem::{Request, Response, handler};
use rust_embed::RustEmbed;

/// The built front end (`npm run build` in `frontend/`). Missing at build time is allowed: the
/// server then answers a short page saying how to build the UI.
#[derive(RustEmbed)]
#[folder = "../../frontend/dist"]
#[allow_missing = true]
struct Assets;

fn file_response(path: &str, immutable: bool) -> Option<Response> {
    let file = Assets::get(path)?;
    let mime = file.metadata.mimetype().to_owned();
    let cache = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    Some(
        Response::builder()
            .header(header::CONTENT_TYPE, mime)
            .header(header::CACHE_CONTROL, cache)
            .body(file.data.into_owned()),
    )
}

const NOT_BUILT: &str = "<!doctype html><title>OpsFlow Agent Desk</title>\
<p>The web UI has not been built into this server. Run <code>npm ci && npm run build</code> in \
<code>frontend/</code>, then rebuild the server. The API is at <a href=\"/api/docs\">/api/docs</a>.</p>";

/// Serves an asset, or `index.html` for any other path so deep links load the app.
#[handler]
pub fn spa(req: &Request) -> Response {
    let path = req.uri().path().trim_start_matches('/');
    if !path.is_empty()
        && let Some(resp) = file_response(path, path.starts_with("assets/"))
    {
        return resp;
    }
    file_response("index.html", false).unwrap_or_else(|| {
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .body(NOT_BUILT)
    })
}
