//! Bearer-token authentication (`--token-file`); health endpoints are exempt.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::path::Path;
use std::sync::Arc;

/// The largest token file read.
const MAX_TOKEN_FILE: u64 = 4096;

/// Reads the token: the file's text without surrounding whitespace, not empty.
pub fn read_token(path: &Path) -> Result<Arc<str>, String> {
    let text = kycrules::files::read_file(path, MAX_TOKEN_FILE)
        .map_err(|e| format!("{}: cannot read the token file: {e}", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!("{}: the token file is empty", path.display()));
    }
    Ok(token.into())
}

/// Lets a request through when it carries `Authorization: Bearer <token>`,
/// or asks for `/healthz` or `/readyz`; otherwise answers `401`.
pub async fn require(State(token): State<Arc<str>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == "/healthz" || path == "/readyz" {
        return next.run(req).await;
    }
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(g) if same(g.trim().as_bytes(), token.as_bytes()) => next.run(req).await,
        _ => (
            StatusCode::UNAUTHORIZED,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::WWW_AUTHENTICATE, "Bearer"),
            ],
            "{\"error\":\"missing or wrong bearer token\"}\n",
        )
            .into_response(),
    }
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
