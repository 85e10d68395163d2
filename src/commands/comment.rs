//! `tsmigrate comment`: one sticky comment per marker on a pull request
//! (GitHub) or merge request (GitLab): created on the first run, edited on
//! every later one, found by a hidden marker line. The endpoints and the
//! request come from the variables the CI sets, so the same command runs
//! in the GitHub Action, the GitLab template, and the tests against a fake
//! API on loopback. The token is never printed.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use serde_json::{json, Value};

use super::Context;
use crate::cli::Platform;
use crate::error::{Error, Outcome};

/// Comments asked for per page (GitHub and GitLab allow 100).
const PAGE: usize = 100;

/// Where the comments live and how to reach them.
struct Target {
    /// The comments of the pull or merge request.
    list: String,
    /// One comment, by id.
    one: Box<dyn Fn(&str) -> String + Send + Sync>,
    headers: HeaderMap,
    /// The method that edits a comment (PATCH on GitHub, PUT on GitLab).
    edit: reqwest::Method,
    what: &'static str,
}

fn var(ctx: &Context, name: &str, why: &str) -> Result<String, Error> {
    ctx.env
        .get(name)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .ok_or_else(|| Error::Usage(format!("{name} is not set ({why})")))
}

fn api_base(ctx: &Context, name: &str, allow_http: bool) -> Result<String, Error> {
    let base = var(ctx, name, "the API's base URL")?;
    let url = reqwest::Url::parse(&base).map_err(|source| Error::Url {
        what: name.into(),
        source,
    })?;
    crate::net::check_scheme(&url, name, allow_http).map_err(Error::Usage)?;
    Ok(base.trim_end_matches('/').to_string())
}

fn secret_header(value: &str) -> Result<HeaderValue, Error> {
    crate::secrets::remember(value);
    let mut v = HeaderValue::from_str(value)
        .map_err(|_| Error::Usage("the token is not a valid header value".into()))?;
    v.set_sensitive(true);
    Ok(v)
}

fn github(ctx: &Context, allow_http: bool) -> Result<Target, Error> {
    let api = api_base(ctx, "GITHUB_API_URL", allow_http)?;
    let repo = var(ctx, "GITHUB_REPOSITORY", "owner/name")?;
    let token = var(
        ctx,
        "GITHUB_TOKEN",
        "a token that may write pull-request comments",
    )?;
    let event_path = var(
        ctx,
        "GITHUB_EVENT_PATH",
        "the event that started the workflow",
    )?;
    let event: Value = {
        let path = std::path::Path::new(&event_path);
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        crate::json::file::parse(&bytes, path)?
    };
    let number = event
        .pointer("/pull_request/number")
        .or_else(|| event.pointer("/issue/number"))
        .and_then(Value::as_u64)
        .ok_or_else(|| {
            Error::input(
                &event_path,
                "at /pull_request/number: not a pull-request event; comments go on a pull request",
            )
        })?;
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, secret_header(&format!("Bearer {token}"))?);
    headers.insert(
        ACCEPT,
        HeaderValue::from_static("application/vnd.github+json"),
    );
    headers.insert(
        "X-GitHub-Api-Version",
        HeaderValue::from_static("2022-11-28"),
    );
    let comments = format!("{api}/repos/{repo}/issues/comments");
    Ok(Target {
        list: format!("{api}/repos/{repo}/issues/{number}/comments"),
        one: Box::new(move |id| format!("{comments}/{id}")),
        headers,
        edit: reqwest::Method::PATCH,
        what: "pull request",
    })
}

fn gitlab(ctx: &Context, allow_http: bool) -> Result<Target, Error> {
    let api = api_base(ctx, "CI_API_V4_URL", allow_http)?;
    let project = var(ctx, "CI_PROJECT_ID", "the project")?;
    let iid = var(
        ctx,
        "CI_MERGE_REQUEST_IID",
        "comments go on a merge request: run in a merge-request pipeline",
    )?;
    let token = var(
        ctx,
        "TSMIGRATE_GITLAB_TOKEN",
        "a project or personal access token with the api scope",
    )?;
    let mut headers = HeaderMap::new();
    headers.insert("PRIVATE-TOKEN", secret_header(&token)?);
    let notes = format!("{api}/projects/{project}/merge_requests/{iid}/notes");
    let one = notes.clone();
    Ok(Target {
        list: notes,
        one: Box::new(move |id| format!("{one}/{id}")),
        headers,
        edit: reqwest::Method::PUT,
        what: "merge request",
    })
}

/// The hidden line that finds the comment again.
fn marker_line(marker: &str) -> String {
    format!("<!-- tsmigrate:{} -->", marker.replace("--", "- -"))
}

async fn send(req: reqwest::RequestBuilder, what: &str) -> Result<reqwest::Response, Error> {
    let resp = req.send().await.map_err(|e| {
        Error::Usage(format!(
            "{what}: {}",
            crate::secrets::mask_known(&e.without_url().to_string())
        ))
    })?;
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    Err(Error::Usage(format!(
        "{what}: HTTP {status}: {}",
        crate::secrets::mask_cluster_text(body.chars().take(300).collect::<String>().as_str())
    )))
}

pub async fn run(
    ctx: &Context,
    platform: Platform,
    marker: &str,
    body_file: &std::path::Path,
    allow_http: bool,
) -> Result<Outcome, Error> {
    let text = std::fs::read(body_file).map_err(|e| Error::io(body_file, e))?;
    let text =
        String::from_utf8(text).map_err(|_| Error::input(body_file.display(), "not UTF-8 text"))?;
    let line = marker_line(marker);
    let body = format!("{line}\n{text}");
    let target = match platform {
        Platform::Github => github(ctx, allow_http)?,
        Platform::Gitlab => gitlab(ctx, allow_http)?,
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("tsmigrate/", env!("CARGO_PKG_VERSION")))
        .default_headers(target.headers.clone())
        .build()
        .map_err(Error::HttpClient)?;
    // The comment with the marker, page by page.
    let mut found = None;
    for page in 1.. {
        let req = http
            .get(&target.list)
            .query(&[("per_page", PAGE.to_string()), ("page", page.to_string())]);
        let list: Vec<Value> = send(req, "listing the comments")
            .await?
            .json()
            .await
            .map_err(|e| Error::Usage(format!("listing the comments: {}", e.without_url())))?;
        found = list.iter().find_map(|c| {
            let mine = c["body"].as_str().is_some_and(|b| b.starts_with(&line));
            mine.then(|| c["id"].to_string().trim_matches('"').to_string())
        });
        if found.is_some() || list.len() < PAGE {
            break;
        }
    }
    match found {
        Some(id) => {
            let req = http
                .request(target.edit.clone(), (target.one)(&id))
                .json(&json!({ "body": body }));
            send(req, "editing the comment").await?;
            ctx.printer
                .info(&format!("comment {id} on the {} edited", target.what));
        }
        None => {
            let req = http.post(&target.list).json(&json!({ "body": body }));
            send(req, "creating the comment").await?;
            ctx.printer
                .info(&format!("comment on the {} created", target.what));
        }
    }
    Ok(Outcome::Success)
}
