//! `CredentialsSource::DefaultChain` (the production path through aws-config) finds the
//! standard `AWS_*` environment variables. A test binary of its own: it changes the process
//! environment, which must not race other tests.

use std::time::Duration;

use bytes::Bytes;
use photoshare_storage::{CredentialsSource, EmbeddedS3, EmbeddedS3Config, ObjectStore};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn the_default_chain_reads_credentials_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let server = EmbeddedS3::start(
        EmbeddedS3Config::new(dir.path(), "photoshare-env"),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    let credentials = server.credentials().clone();
    // Only the variables under test: no profile files, no instance metadata, no web identity.
    for name in [
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
    ] {
        std::env::remove_var(name);
    }
    std::env::set_var("AWS_CONFIG_FILE", dir.path().join("no-config"));
    std::env::set_var(
        "AWS_SHARED_CREDENTIALS_FILE",
        dir.path().join("no-credentials"),
    );
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::set_var("AWS_ACCESS_KEY_ID", &credentials.access_key_id);
    std::env::set_var("AWS_SECRET_ACCESS_KEY", &credentials.secret_access_key);

    let mut settings = server.settings();
    settings.credentials = CredentialsSource::DefaultChain;
    let store = ObjectStore::connect(&settings).await.unwrap();
    store.ping().await.unwrap();
    store
        .put("k/env.txt", Bytes::from_static(b"hello"), "text/plain")
        .await
        .unwrap();
    assert_eq!(
        store.get("k/env.txt").await.unwrap(),
        Bytes::from_static(b"hello")
    );
    let url = store
        .presign_get("k/env.txt", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        reqwest::get(&url).await.unwrap().text().await.unwrap(),
        "hello"
    );
}
