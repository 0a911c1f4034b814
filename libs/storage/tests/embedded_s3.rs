//! `ObjectStore` against the real embedded S3 server over HTTP: presigned uploads and downloads
//! as a phone would use them (with reqwest, or a raw socket where reqwest is too polite), the
//! refusals that make presigning safe, and persistence across restarts. No fakes.

use std::path::Path;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use photoshare_storage::{
    CredentialsSource, EmbeddedS3, EmbeddedS3Config, ObjectStore, StaticCredentials, StorageError,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

const BUCKET: &str = "photoshare-test";
const JPEG: &str = "image/jpeg";

struct Setup {
    _dir: tempfile::TempDir,
    server: EmbeddedS3,
    store: ObjectStore,
}

async fn start_on(root: &Path) -> (EmbeddedS3, ObjectStore) {
    let server = EmbeddedS3::start(
        EmbeddedS3Config::new(root, BUCKET),
        CancellationToken::new(),
    )
    .await
    .expect("embedded S3 starts");
    let store = ObjectStore::connect(&server.settings())
        .await
        .expect("client builds");
    (server, store)
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (server, store) = start_on(dir.path()).await;
    Setup {
        _dir: dir,
        server,
        store,
    }
}

/// Stand-in for a photo: bytes that start like a JPEG.
fn photo(len: usize) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend((0..len.saturating_sub(4)).map(|i| (i % 251) as u8));
    bytes.truncate(len);
    bytes
}

/// Sends `body` to a presigned upload the way a client would, with `headers` as given.
async fn put_with(
    url: &str,
    headers: impl IntoIterator<Item = (String, String)>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new().put(url).body(body);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request.send().await.expect("the server answers")
}

#[tokio::test]
async fn presigned_put_with_the_returned_headers_is_stored_and_readable() {
    let s = setup().await;
    let body = photo(3000);
    let upload = s
        .store
        .presign_put(
            "uploads/1/a.jpg",
            JPEG,
            body.len() as u64,
            Duration::from_secs(300),
        )
        .await
        .unwrap();

    assert_eq!(upload.method, "PUT");
    assert!(upload.url.starts_with(s.server.endpoint_url()));
    assert_eq!(
        upload.headers.get("content-type").map(String::as_str),
        Some(JPEG)
    );
    assert_eq!(
        upload.headers.get("content-length").map(String::as_str),
        Some("3000")
    );
    let expires_in = upload.expires_at.duration_since(SystemTime::now()).unwrap();
    assert!(expires_in <= Duration::from_secs(300) && expires_in > Duration::from_secs(290));

    let answer = put_with(&upload.url, upload.headers.clone(), body.clone()).await;
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());

    let meta = s
        .store
        .head("uploads/1/a.jpg")
        .await
        .unwrap()
        .expect("object exists");
    assert_eq!(meta.size, 3000);
    assert_eq!(meta.content_type.as_deref(), Some(JPEG));
    assert_eq!(
        s.store.get("uploads/1/a.jpg").await.unwrap(),
        Bytes::from(body.clone())
    );
    assert_eq!(
        s.store.get_range("uploads/1/a.jpg", 0, 4).await.unwrap(),
        Bytes::from_static(&[0xFF, 0xD8, 0xFF, 0xE0])
    );
    assert_eq!(
        s.store
            .get_range("uploads/1/a.jpg", 2990, 100)
            .await
            .unwrap(),
        Bytes::copy_from_slice(&body[2990..]),
        "a range past the end gives what there is"
    );
    assert!(s
        .store
        .get_range("uploads/1/a.jpg", 5000, 10)
        .await
        .unwrap()
        .is_empty());

    let url = s
        .store
        .presign_get("uploads/1/a.jpg", Duration::from_secs(60))
        .await
        .unwrap();
    let download = reqwest::get(&url).await.unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], JPEG);
    assert_eq!(download.bytes().await.unwrap(), Bytes::from(body));
}

#[tokio::test]
async fn a_tampered_signature_is_refused() {
    let s = setup().await;
    let body = photo(100);
    let upload = s
        .store
        .presign_put("k/tampered.jpg", JPEG, 100, Duration::from_secs(60))
        .await
        .unwrap();
    let (rest, signature) = upload.url.rsplit_once("X-Amz-Signature=").unwrap();
    let flipped = if signature.starts_with('0') { "1" } else { "0" };
    let tampered = format!("{rest}X-Amz-Signature={flipped}{}", &signature[1..]);

    let answer = put_with(&tampered, upload.headers.clone(), body.clone()).await;
    assert_eq!(answer.status(), 403);
    assert!(answer
        .text()
        .await
        .unwrap()
        .contains("SignatureDoesNotMatch"));
    assert_eq!(s.store.head("k/tampered.jpg").await.unwrap(), None);

    // So is a signed URL for another key.
    let other = upload.url.replace("k/tampered.jpg", "k/other.jpg");
    assert_eq!(put_with(&other, upload.headers, body).await.status(), 403);
    assert_eq!(s.store.head("k/other.jpg").await.unwrap(), None);
}

#[tokio::test]
async fn an_expired_url_is_refused() {
    let s = setup().await;
    s.store
        .put("k/old.jpg", Bytes::from(photo(10)), JPEG)
        .await
        .unwrap();
    let upload = s
        .store
        .presign_put("k/late.jpg", JPEG, 10, Duration::from_secs(1))
        .await
        .unwrap();
    let download = s
        .store
        .presign_get("k/old.jpg", Duration::from_secs(1))
        .await
        .unwrap();
    // X-Amz-Date has whole seconds, so wait out a full extra second.
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let answer = put_with(&upload.url, upload.headers, photo(10)).await;
    assert_eq!(answer.status(), 403);
    assert!(answer.text().await.unwrap().contains("expired"));
    assert_eq!(s.store.head("k/late.jpg").await.unwrap(), None);
    assert_eq!(reqwest::get(&download).await.unwrap().status(), 403);
}

#[tokio::test]
async fn a_body_of_another_length_than_signed_is_refused() {
    let s = setup().await;
    let upload = s
        .store
        .presign_put("k/size.jpg", JPEG, 1000, Duration::from_secs(60))
        .await
        .unwrap();
    let headers_without_length = || {
        upload
            .headers
            .clone()
            .into_iter()
            .filter(|(name, _)| name != "content-length")
    };

    // reqwest sends the true Content-Length, which no longer matches the signed one.
    for len in [1001, 5000, 999] {
        let answer = put_with(&upload.url, headers_without_length(), photo(len)).await;
        assert_eq!(answer.status(), 403, "a {len}-byte body must be refused");
    }

    // Without any Content-Length (chunked), over a raw socket: still refused.
    let chunked = [("Content-Type", JPEG), ("Transfer-Encoding", "chunked")];
    let status = raw_put(&upload.url, &chunked, &chunked_body(&photo(5000))).await;
    assert_eq!(status, 403, "chunked upload");
    assert_eq!(s.store.head("k/size.jpg").await.unwrap(), None);

    // The signed Content-Length followed by more bytes than it says: HTTP ends the body at
    // the declared length, so exactly the signed 1000 bytes are stored and the rest is not.
    let signed = [("Content-Type", JPEG), ("Content-Length", "1000")];
    let long = photo(1500);
    assert_eq!(raw_put(&upload.url, &signed, &long).await, 200);
    assert_eq!(
        s.store.get("k/size.jpg").await.unwrap(),
        Bytes::copy_from_slice(&long[..1000])
    );
}

#[tokio::test]
async fn a_content_type_other_than_signed_is_refused() {
    let s = setup().await;
    let upload = s
        .store
        .presign_put("k/type.jpg", JPEG, 50, Duration::from_secs(60))
        .await
        .unwrap();
    for content_type in ["text/html", "image/jpeg; charset=utf-8", "IMAGE/JPEG"] {
        let mut headers = upload.headers.clone();
        headers.insert("content-type".into(), content_type.into());
        let answer = put_with(&upload.url, headers, photo(50)).await;
        assert_eq!(answer.status(), 403, "{content_type} must be refused");
    }
    let mut headers = upload.headers.clone();
    headers.remove("content-type");
    assert_eq!(
        put_with(&upload.url, headers, photo(50)).await.status(),
        403
    );
    assert_eq!(s.store.head("k/type.jpg").await.unwrap(), None);
}

#[tokio::test]
async fn delete_is_idempotent_and_missing_objects_are_not_found() {
    let s = setup().await;
    assert_eq!(s.store.head("k/missing.jpg").await.unwrap(), None);
    assert!(matches!(
        s.store.get("k/missing.jpg").await,
        Err(StorageError::NotFound { .. })
    ));
    assert!(s
        .store
        .get_range("k/missing.jpg", 0, 16)
        .await
        .unwrap_err()
        .is_not_found());
    let url = s
        .store
        .presign_get("k/missing.jpg", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 404);

    s.store
        .put("k/gone.jpg", Bytes::from(photo(20)), JPEG)
        .await
        .unwrap();
    s.store.delete("k/gone.jpg").await.unwrap();
    assert_eq!(s.store.head("k/gone.jpg").await.unwrap(), None);
    s.store.delete("k/gone.jpg").await.unwrap();
    s.store.delete("k/never-was.jpg").await.unwrap();
}

#[tokio::test]
async fn empty_objects_and_bad_input() {
    let s = setup().await;
    s.store
        .put("k/empty", Bytes::new(), "application/octet-stream")
        .await
        .unwrap();
    let meta = s.store.head("k/empty").await.unwrap().unwrap();
    assert_eq!(meta.size, 0);
    assert!(s.store.get("k/empty").await.unwrap().is_empty());
    assert!(s
        .store
        .get_range("k/empty", 0, 16)
        .await
        .unwrap()
        .is_empty());

    fn invalid<T>(result: Result<T, StorageError>) -> bool {
        matches!(result, Err(StorageError::InvalidInput { .. }))
    }
    assert!(invalid(s.store.head("../escape").await));
    assert!(invalid(s.store.get("").await));
    assert!(invalid(s.store.get_range("k/empty", 0, 0).await));
    assert!(invalid(s.store.delete("a//b").await));
    assert!(invalid(
        s.store
            .presign_put("k/x", "no type", 1, Duration::from_secs(60))
            .await
    ));
    assert!(invalid(
        s.store
            .presign_put("k/x", JPEG, 1, Duration::from_secs(8 * 24 * 3600))
            .await
    ));
    assert!(invalid(s.store.presign_get("k/x", Duration::ZERO).await));
}

#[tokio::test]
async fn wrong_credentials_are_refused() {
    let s = setup().await;
    let mut settings = s.server.settings();
    settings.credentials = CredentialsSource::Static(StaticCredentials {
        access_key_id: s.server.credentials().access_key_id.clone(),
        secret_access_key: "not-the-secret".into(),
    });
    let intruder = ObjectStore::connect(&settings).await.unwrap();
    let error = intruder
        .put("k/x", Bytes::from_static(b"x"), JPEG)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StorageError::Request {
                status: Some(403),
                ..
            }
        ),
        "{error}"
    );
    assert!(intruder.ping().await.is_err());
    s.store.ping().await.unwrap();
}

#[tokio::test]
async fn data_survives_a_restart_on_the_same_folder() {
    let dir = tempfile::tempdir().unwrap();
    let (server, store) = start_on(dir.path()).await;
    store
        .put("k/kept.jpg", Bytes::from(photo(64)), JPEG)
        .await
        .unwrap();
    let upload = store
        .presign_put("k/uploaded.png", "image/png", 8, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        put_with(&upload.url, upload.headers, b"\x89PNG\r\n\x1a\n".to_vec())
            .await
            .status(),
        200
    );
    let old_endpoint = server.endpoint_url().to_owned();
    server.stop().await;
    assert!(
        reqwest::get(format!("{old_endpoint}/{BUCKET}"))
            .await
            .is_err(),
        "the port is closed after stop"
    );

    let (server, store) = start_on(dir.path()).await;
    assert_eq!(
        store.get("k/kept.jpg").await.unwrap(),
        Bytes::from(photo(64))
    );
    let meta = store.head("k/uploaded.png").await.unwrap().unwrap();
    assert_eq!(
        (meta.size, meta.content_type.as_deref()),
        (8, Some("image/png"))
    );

    // Cancelling the shutdown token stops it too.
    let token = CancellationToken::new();
    drop((server, store));
    let server = EmbeddedS3::start(EmbeddedS3Config::new(dir.path(), BUCKET), token.clone())
        .await
        .unwrap();
    let endpoint = server.endpoint_url().to_owned();
    token.cancel();
    tokio::time::timeout(Duration::from_secs(10), server.stopped())
        .await
        .expect("stops on cancel");
    assert!(reqwest::get(format!("{endpoint}/{BUCKET}")).await.is_err());
}

/// A PUT over a plain socket with exactly these headers and bytes, for what reqwest will not
/// send (a body longer than its Content-Length, chunked without Content-Length). Returns the
/// status code.
async fn raw_put(url: &str, headers: &[(&str, &str)], body: &[u8]) -> u16 {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path_and_query) = rest.split_at(rest.find('/').unwrap());
    let mut request =
        format!("PUT {path_and_query} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut request = request.into_bytes();
    request.extend_from_slice(body);

    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    // The server may close before reading everything; the status line is what matters.
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"))
}

/// `body` as one chunk of a chunked transfer encoding.
fn chunked_body(body: &[u8]) -> Vec<u8> {
    let mut encoded = format!("{:x}\r\n", body.len()).into_bytes();
    encoded.extend_from_slice(body);
    encoded.extend_from_slice(b"\r\n0\r\n\r\n");
    encoded
}
