//! Uploads and photos through the REST API: presign → PUT straight to object storage with
//! exactly the returned headers → complete → poll until processed → fetch the variants; and
//! everything a careless or hostile client can do on the way.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_both_backends;

on_both_backends!(
    a_photo_goes_from_upload_to_ready_variants,
    uploads_refuse_what_they_cannot_take,
    completing_checks_the_uploaded_object,
);

pub fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("PHOTOSHARE_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/testdata/images"
            ))
        });
    assert!(
        dir.join("MANIFEST.tsv").exists(),
        "the image corpus is missing: looked in {} (set PHOTOSHARE_TEST_IMAGES)",
        dir.display()
    );
    dir
}

fn image(name: &str) -> Vec<u8> {
    std::fs::read(corpus_dir().join(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

async fn create_upload(
    app: &TestApp,
    token: &str,
    content_type: &str,
    length: usize,
) -> reqwest::Response {
    app.post_authed(
        "/v1/uploads",
        token,
        &json!({"content_type": content_type, "content_length": length}),
    )
    .await
}

/// PUTs `bytes` to the presigned URL with exactly the headers the ticket lists.
async fn put_object(app: &TestApp, ticket: &Value, bytes: Vec<u8>) -> StatusCode {
    assert_eq!(ticket["method"], "PUT");
    let mut request = app.client.put(ticket["url"].as_str().unwrap());
    for (name, value) in ticket["headers"].as_object().unwrap() {
        if !name.eq_ignore_ascii_case("content-length") {
            request = request.header(name, value.as_str().unwrap());
        }
    }
    request.body(bytes).send().await.unwrap().status()
}

async fn complete(
    app: &TestApp,
    token: &str,
    upload_id: &Value,
    caption: &str,
) -> reqwest::Response {
    app.post_authed(
        "/v1/photos",
        token,
        &json!({"upload_id": upload_id, "caption": caption}),
    )
    .await
}

/// Polls until the photo is no longer `processing`.
pub async fn settled(app: &TestApp, token: &str, photo_id: &str) -> Value {
    let started = Instant::now();
    loop {
        let response = app.get(&format!("/v1/photos/{photo_id}"), token).await;
        assert_eq!(response.status(), StatusCode::OK);
        let photo: Value = response.json().await.unwrap();
        if photo["status"] != "processing" {
            return photo;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "photo {photo_id} stuck in processing"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Uploads and completes `file`; returns the 202 photo.
pub async fn post_photo(
    app: &TestApp,
    token: &str,
    file: &str,
    content_type: &str,
    caption: &str,
) -> Value {
    let bytes = image(file);
    let response = create_upload(app, token, content_type, bytes.len()).await;
    assert_eq!(response.status(), StatusCode::CREATED, "upload of {file}");
    let ticket: Value = response.json().await.unwrap();
    assert_eq!(
        put_object(app, &ticket, bytes).await,
        StatusCode::OK,
        "PUT of {file}"
    );
    let response = complete(app, token, &ticket["upload_id"], caption).await;
    assert_eq!(
        response.status(),
        StatusCode::ACCEPTED,
        "completion of {file}"
    );
    response.json().await.unwrap()
}

fn is_jpeg_without_exif(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF]) && !bytes.windows(6).any(|window| window == b"Exif\0\0")
}

async fn a_photo_goes_from_upload_to_ready_variants(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let (token, bob_token) = (token(&ann), token(&bob));

    // Stored 600x450 with EXIF orientation 6: upright it is 450x600.
    let accepted = post_photo(
        &app,
        token,
        "orientation_6_portrait.jpg",
        "image/jpeg",
        "Dusk #Beach #beach with @Bob.",
    )
    .await;
    assert_eq!(accepted["status"], "processing");
    assert_eq!(accepted["author"]["username"], "ann");
    assert_eq!(accepted["hashtags"], json!(["beach"]));
    assert_eq!(accepted["mentions"], json!(["bob"]));
    let id = accepted["id"].as_str().unwrap().to_owned();

    let photo = settled(&app, token, &id).await;
    assert_eq!(photo["status"], "ready", "{photo}");
    assert_eq!(
        (photo["width"].as_u64(), photo["height"].as_u64()),
        (Some(450), Some(600))
    );
    assert!(!photo["placeholder"]["blurhash"]
        .as_str()
        .unwrap()
        .is_empty());
    let variants = photo["variants"].as_array().unwrap();
    let sizes: Vec<(&str, u64, u64)> = variants
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap(),
                v["width"].as_u64().unwrap(),
                v["height"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sizes,
        [
            ("thumb", 150, 150),
            ("medium", 450, 600),
            ("large", 450, 600)
        ],
        "never upscaled"
    );
    for variant in variants {
        assert_eq!(variant["content_type"], "image/jpeg");
        let fetched = app
            .client
            .get(variant["url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(fetched.status(), StatusCode::OK);
        let bytes = fetched.bytes().await.unwrap();
        assert!(
            is_jpeg_without_exif(&bytes),
            "variant {} keeps metadata",
            variant["name"]
        );
    }

    // Others see a ready photo; only its author may change it.
    let seen = app.get(&format!("/v1/photos/{id}"), bob_token).await;
    assert_eq!(seen.status(), StatusCode::OK);
    let path = format!("/v1/photos/{id}");
    assert_problem(
        app.patch(&path, bob_token, &json!({"caption": "mine now"}))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(app.delete(&path, bob_token).await, 403, "forbidden").await;
    let edited: Value = app
        .patch(
            &path,
            token,
            &json!({"caption": "Edited #new", "alt_text": "a beach"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(edited["caption"], "Edited #new");
    assert_eq!(edited["hashtags"], json!(["new"]));
    assert_eq!(edited["alt_text"], "a beach");
    assert_problem(
        app.patch(&path, token, &json!({"caption": "x".repeat(2201)}))
            .await,
        400,
        "validation_failed",
    )
    .await;

    // The profile grid, newest first.
    let second = post_photo(&app, token, "skimage_rocket.jpg", "image/jpeg", "rocket").await;
    let grid: Value = app
        .get("/v1/users/ann/photos?limit=1", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(grid["items"][0]["id"], second["id"]);
    let cursor = grid["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let rest: Value = app
        .get(
            &format!("/v1/users/ann/photos?limit=1&cursor={cursor}"),
            token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"][0]["id"], json!(id));
    assert_eq!(rest["next_cursor"], Value::Null);

    // Deleting removes the photo and its objects.
    assert_eq!(
        app.delete(&path, token).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_problem(app.get(&path, token).await, 404, "not_found").await;
    for variant in variants {
        let gone = app
            .client
            .get(variant["url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(
            gone.status(),
            StatusCode::NOT_FOUND,
            "a deleted photo's variant is still served"
        );
    }
    let grid: Value = app
        .get("/v1/users/ann/photos", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(grid["items"].as_array().unwrap().len(), 1);
}

async fn uploads_refuse_what_they_cannot_take(backend: Backend) {
    let app = spawn_app(backend).await;
    let session = app.signup("carl").await;
    let token = token(&session);
    assert_problem(
        create_upload(&app, token, "image/avif", 1000).await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert_problem(
        create_upload(&app, token, "image/svg+xml", 1000).await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert_problem(
        create_upload(&app, token, "image/jpeg", 20 * 1024 * 1024 + 1).await,
        413,
        "payload_too_large",
    )
    .await;
    assert_problem(
        create_upload(&app, token, "image/jpeg", 0).await,
        400,
        "validation_failed",
    )
    .await;
    let unknown_field = app
        .post_authed(
            "/v1/uploads",
            token,
            &json!({"content_type": "image/jpeg", "content_length": 10, "name": "x"}),
        )
        .await;
    assert_problem(unknown_field, 400, "validation_failed").await;
    let anonymous = app
        .post(
            "/v1/uploads",
            &json!({"content_type": "image/jpeg", "content_length": 10}),
        )
        .await;
    assert_problem(anonymous, 401, "unauthorized").await;

    // Idempotency-Key: a retry returns the same upload; reusing the key for another body fails.
    let retry = |length: usize| {
        app.client
            .post(app.url("/v1/uploads"))
            .bearer_auth(token)
            .header("idempotency-key", "upload-1")
            .json(&json!({"content_type": "image/jpeg", "content_length": length}))
            .send()
    };
    let retry = |length: usize| {
        let request = retry(length);
        async move { request.await.expect("request sent") }
    };
    let first: Value = retry(1234).await.json().await.unwrap();
    let second: Value = retry(1234).await.json().await.unwrap();
    assert_eq!(first["upload_id"], second["upload_id"]);
    assert_problem(retry(999).await, 400, "validation_failed").await;
}

async fn completing_checks_the_uploaded_object(backend: Backend) {
    let app = spawn_app(backend).await;
    let dana = app.signup("dana").await;
    let eve = app.signup("eve").await;
    let (token, eve_token) = (token(&dana), token(&eve));
    let jpeg = image("skimage_rocket.jpg");

    // Completing before the PUT: nothing there yet.
    let ticket: Value = create_upload(&app, token, "image/jpeg", jpeg.len())
        .await
        .json()
        .await
        .unwrap();
    assert_problem(
        complete(&app, token, &ticket["upload_id"], "").await,
        409,
        "upload_incomplete",
    )
    .await;

    // The storage refuses a tampered URL and a body of another length than signed.
    let mut tampered = ticket.clone();
    let url = ticket["url"].as_str().unwrap();
    // Change the signature's last hex digit.
    let flipped = match url.strip_suffix('0') {
        Some(rest) => format!("{rest}1"),
        None => format!("{}0", &url[..url.len() - 1]),
    };
    tampered["url"] = json!(flipped);
    assert_eq!(
        put_object(&app, &tampered, jpeg.clone()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        put_object(&app, &ticket, jpeg[..jpeg.len() - 10].to_vec()).await,
        StatusCode::FORBIDDEN
    );
    assert_problem(
        complete(&app, token, &ticket["upload_id"], "").await,
        409,
        "upload_incomplete",
    )
    .await;

    // Someone else cannot complete Dana's upload, even after it is in place.
    assert_eq!(
        put_object(&app, &ticket, jpeg.clone()).await,
        StatusCode::OK
    );
    assert_problem(
        complete(&app, eve_token, &ticket["upload_id"], "").await,
        404,
        "not_found",
    )
    .await;
    // Completing twice gives one photo.
    let first: Value = complete(&app, token, &ticket["upload_id"], "once")
        .await
        .json()
        .await
        .unwrap();
    let again = complete(&app, token, &ticket["upload_id"], "twice").await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["caption"], "once");
    assert_problem(
        complete(&app, token, &json!("12x"), "").await,
        400,
        "validation_failed",
    )
    .await;

    // Declared PNG, but the bytes are a JPEG: refused, and the object is deleted.
    let lying: Value = create_upload(&app, token, "image/png", jpeg.len())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(put_object(&app, &lying, jpeg.clone()).await, StatusCode::OK);
    assert_problem(
        complete(&app, token, &lying["upload_id"], "").await,
        422,
        "invalid_image",
    )
    .await;
    assert_problem(
        complete(&app, token, &lying["upload_id"], "").await,
        409,
        "upload_incomplete",
    )
    .await;

    // Text named .jpg is no image.
    let text = image("text_renamed.jpg");
    let ticket: Value = create_upload(&app, token, "image/jpeg", text.len())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(put_object(&app, &ticket, text).await, StatusCode::OK);
    assert_problem(
        complete(&app, token, &ticket["upload_id"], "").await,
        422,
        "invalid_image",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_upload_cannot_be_used() {
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.media.upload_expiry_secs = 1;
        config.media.completion_grace_secs = 0;
    })
    .await;
    let session = app.signup("fay").await;
    let jpeg = image("skimage_rocket.jpg");
    let ticket: Value = create_upload(&app, token(&session), "image/jpeg", jpeg.len())
        .await
        .json()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        put_object(&app, &ticket, jpeg).await,
        StatusCode::FORBIDDEN,
        "the storage refuses an expired URL"
    );
    assert_problem(
        complete(&app, token(&session), &ticket["upload_id"], "").await,
        410,
        "upload_expired",
    )
    .await;
}

/// The worker is killed while the photo is (very likely) being processed: the event was not
/// committed, so after the restart it is delivered again and the photo still ends ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_processing_still_ends_ready() {
    let app = spawn_app(Backend::Sqlite).await;
    let session = app.signup("gus").await;
    // The 12 MP photo keeps the worker busy for a while.
    let photo = post_photo(
        &app,
        token(&session),
        "camera_olympus_ep3_12mp.jpg",
        "image/jpeg",
        "",
    )
    .await;
    let app = app.crash_and_restart().await;
    let settled = settled(&app, token(&session), photo["id"].as_str().unwrap()).await;
    assert_eq!(settled["status"], "ready", "{settled}");
    assert_eq!(
        (settled["width"].as_u64(), settled["height"].as_u64()),
        (Some(4032), Some(3024))
    );
}

fn content_type_of(format: &str) -> String {
    match format {
        "jpeg" | "png" | "webp" | "gif" | "heic" | "heif" | "avif" => format!("image/{format}"),
        other => panic!("unknown corpus format {other}"),
    }
}

/// Every file of the shared corpus through the whole API: `accept` ends `ready` with the upright
/// size; `reject` is refused with a 4xx or ends `failed`; never a 5xx, never stuck.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_file_does_what_the_manifest_says() {
    let app = spawn_app(Backend::Sqlite).await;
    let session = app.signup("corpus").await;
    let token = token(&session);
    let manifest = std::fs::read_to_string(corpus_dir().join("MANIFEST.tsv")).unwrap();
    let mut pending = Vec::new();
    let mut wrong = Vec::new();
    for line in manifest
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
    {
        let columns: Vec<&str> = line.split('\t').collect();
        let (file, format, expected, note) = (columns[0], columns[2], columns[7], columns[8]);
        let upright = note
            .split("upright after EXIF orientation: ")
            .nth(1)
            .map(|size| size.trim().to_owned())
            .unwrap_or_else(|| format!("{}x{}", columns[3], columns[4]));
        let bytes = image(file);
        let response = create_upload(&app, token, &content_type_of(format), bytes.len()).await;
        let status = response.status();
        assert!(
            !status.is_server_error(),
            "{file}: {status} creating the upload"
        );
        if status != StatusCode::CREATED {
            if expected != "reject" {
                wrong.push(format!("{file}: upload refused with {status}"));
            }
            continue;
        }
        let ticket: Value = response.json().await.unwrap();
        assert_eq!(
            put_object(&app, &ticket, bytes).await,
            StatusCode::OK,
            "{file}"
        );
        let response = complete(&app, token, &ticket["upload_id"], file).await;
        let status = response.status();
        assert!(!status.is_server_error(), "{file}: {status} completing");
        if status != StatusCode::ACCEPTED {
            if expected != "reject" {
                wrong.push(format!("{file}: completion refused with {status}"));
            }
            continue;
        }
        let photo: Value = response.json().await.unwrap();
        pending.push((
            file.to_owned(),
            expected.to_owned(),
            upright,
            photo["id"].as_str().unwrap().to_owned(),
        ));
    }
    for (file, expected, upright, id) in pending {
        let photo = settled(&app, token, &id).await;
        let size = format!("{}x{}", photo["width"], photo["height"]);
        match (expected.as_str(), photo["status"].as_str().unwrap()) {
            ("accept", "ready") if size == upright => {}
            ("accept", "ready") => {
                wrong.push(format!("{file}: ready as {size}, expected {upright}"))
            }
            ("reject", "failed") => assert!(
                !photo["failure_reason"].as_str().unwrap_or("").is_empty(),
                "{file}"
            ),
            (expected, status) => wrong.push(format!(
                "{file}: expected {expected}, ended {status} {}",
                photo["failure_reason"]
            )),
        }
    }
    assert!(wrong.is_empty(), "corpus mismatches:\n{}", wrong.join("\n"));
}
