//! Misbehaving clusters: every bad answer is an error naming the cluster
//! (exit 6), never a partial document taken for the truth.

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tsmigrate::sim::Faults;

use crate::support::*;

#[derive(Clone, Copy, Debug)]
enum Bad {
    Truncated,
    WrongType,
    HtmlPage,
    HtmlBadGateway,
    EmptyBody,
    SlowEndless,
    HugeStreamed,
    HugeDeclared,
    CutOff,
}

fn answer(bad: Bad) -> Response {
    let json = |s: &'static str| ([(header::CONTENT_TYPE, "application/json")], s).into_response();
    match bad {
        Bad::Truncated => json(r#"{"maxFilterValues": 10, "samlConfiguration": {"enabled": tr"#),
        Bad::WrongType => json("[1, 2, 3]"),
        Bad::HtmlPage => (
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body><h1>Down for maintenance</h1></body></html>",
        )
            .into_response(),
        Bad::HtmlBadGateway => (
            StatusCode::BAD_GATEWAY,
            [(header::CONTENT_TYPE, "text/html")],
            "<html>502 Bad Gateway</html>",
        )
            .into_response(),
        Bad::EmptyBody => StatusCode::OK.into_response(),
        Bad::SlowEndless => {
            let stream = futures::stream::unfold(0u64, |n| async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Some((
                    Ok::<_, std::io::Error>(Bytes::from_static(if n == 0 {
                        b"{\"a\": ["
                    } else {
                        b"1,"
                    })),
                    n + 1,
                ))
            });
            Response::new(Body::from_stream(stream))
        }
        Bad::HugeStreamed => {
            // 300 MiB in 1 MiB chunks, no Content-Length.
            let chunk = Bytes::from(vec![b' '; 1 << 20]);
            let stream = futures::stream::iter(
                (0..300).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
            );
            Response::new(Body::from_stream(stream))
        }
        Bad::HugeDeclared => Response::builder()
            .header(header::CONTENT_LENGTH, (300u64 << 20).to_string())
            .body(Body::from_stream(futures::stream::pending::<
                Result<Bytes, std::io::Error>,
            >()))
            .unwrap(),
        Bad::CutOff => Response::builder()
            .header(header::CONTENT_LENGTH, "5000")
            .body(Body::from(r#"{"maxFilterValues": 10, "samlConfiguration"#))
            .unwrap(),
    }
}

/// A server that logs in like a cluster and answers `admin/configinfo` badly.
fn hostile(bad: Bad) -> (tokio::runtime::Runtime, String) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let api = axum::Router::new()
        .route(
            "/session/login",
            post(|| async {
                (
                    StatusCode::NO_CONTENT,
                    [(header::SET_COOKIE, "JSESSIONID=x; Path=/")],
                )
            }),
        )
        .route("/admin/configinfo", get(move || async move { answer(bad) }))
        .route("/admin/configinfo/overrides", get(|| async { "{}" }))
        .route("/admin/embed/actions", get(|| async { "[]" }))
        .route("/metadata/listobjectheaders", get(|| async { "[]" }));
    let app = axum::Router::new().nest(API, api);
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    (rt, url)
}

#[test]
fn every_bad_answer_is_a_cluster_error_and_no_document() {
    let good = TestSim::start(None, Faults::default());
    let work = tempfile::tempdir().unwrap();
    for bad in [
        Bad::Truncated,
        Bad::WrongType,
        Bad::HtmlPage,
        Bad::HtmlBadGateway,
        Bad::EmptyBody,
        Bad::SlowEndless,
        Bad::HugeStreamed,
        Bad::HugeDeclared,
        Bad::CutOff,
    ] {
        let (_rt, url) = hostile(bad);
        let started = Instant::now();
        let out = command(work.path())
            .args([
                "diff", "--source", &good.url, "--target", &url, "--format", "patch",
            ])
            .env("TS_USERNAME", "admin")
            .env("TS_PASSWORD", "admin")
            .env("TSMIGRATE_RETRY_BASE_MS", "1")
            .env("TSMIGRATE_HTTP_TIMEOUT", "1")
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(code(&out), 6, "{bad:?}: {err}");
        assert!(
            err.contains(&url) && err.contains("admin/configinfo"),
            "{bad:?} names the cluster and call: {err}"
        );
        assert!(
            stdout(&out).is_empty(),
            "{bad:?}: nothing computed on half a cluster"
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{bad:?} took {:?}",
            started.elapsed()
        );
    }
}
