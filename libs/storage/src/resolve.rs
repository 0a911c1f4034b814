//! Object storage settings from the photoshare configuration (`PHOTOSHARE_S3_*` plus the
//! standard AWS credential chain). The embedded server is started by `photoshare dev`, which
//! hands its settings over directly; this is the production path.

use photoshare_config::Backends;

use crate::{CredentialsSource, StorageError, StorageSettings};

/// Settings for a real S3 (or S3-compatible) bucket; the bucket must be configured.
pub fn settings_from_config(backends: &Backends) -> Result<StorageSettings, StorageError> {
    let bucket = backends.s3_bucket.clone().ok_or_else(|| {
        StorageError::Config(
            "no bucket configured: set PHOTOSHARE_S3_BUCKET (and PHOTOSHARE_S3_REGION, or PHOTOSHARE_S3_ENDPOINT \
             for an S3-compatible server), or run `photoshare dev` for the embedded store"
                .to_owned(),
        )
    })?;
    let settings = StorageSettings {
        endpoint: backends.s3_endpoint.clone(),
        bucket,
        region: backends
            .s3_region
            .clone()
            .unwrap_or_else(|| "us-east-1".to_owned()),
        credentials: CredentialsSource::DefaultChain,
    };
    settings.validate()?;
    Ok(settings)
}
