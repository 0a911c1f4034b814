//! [`ObjectStore`]: one bucket through aws-sdk-s3, for AWS S3 and the embedded server alike.
//! Presigned uploads sign `Content-Type` and `Content-Length`, so whoever holds the URL can upload
//! exactly the declared type and size and nothing else. Reads load whole objects into memory;
//! this type must not grow a streaming or multipart API before a caller needs one.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use aws_smithy_http_client::tls;
use bytes::Bytes;

use crate::{validate, CredentialsSource, StorageError, StorageSettings};

/// Where and how a client uploads one object. The client sends `method` to `url` with exactly
/// `headers` (names are lower case; HTTP does not care) and a body of the signed length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedUpload {
    pub url: String,
    pub method: &'static str,
    pub headers: BTreeMap<String, String>,
    pub expires_at: SystemTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub size: u64,
    /// As given when the object was written; S3 may store objects without one.
    pub content_type: Option<String>,
}

/// A client for one bucket. Cheap to clone (the SDK client is reference counted).
#[derive(Debug, Clone)]
pub struct ObjectStore {
    client: Client,
    bucket: String,
}

impl ObjectStore {
    /// Builds the client. Sends no request: an unreachable endpoint or a missing bucket shows
    /// on the first call, or on [`ObjectStore::ping`].
    pub async fn connect(settings: &StorageSettings) -> Result<ObjectStore, StorageError> {
        settings.validate()?;
        // The SDK's own default client would build aws-lc (which needs cmake); ring is already
        // in the workspace for rustls and JWTs.
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        // Only the connect timeout: a whole-operation timeout would cut off large downloads.
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .build();
        let region = Region::new(settings.region.clone());
        let mut builder = match &settings.credentials {
            CredentialsSource::DefaultChain => {
                let shared = aws_config::defaults(BehaviorVersion::latest())
                    .region(region)
                    .http_client(http_client)
                    .timeout_config(timeouts)
                    .load()
                    .await;
                aws_sdk_s3::config::Builder::from(&shared)
            }
            // Without aws-config: static credentials must not pick up anything from the
            // environment or ~/.aws, so dev and tests behave the same on every machine.
            CredentialsSource::Static(credentials) => aws_sdk_s3::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(region)
                .http_client(http_client)
                .timeout_config(timeouts)
                .credentials_provider(Credentials::new(
                    &credentials.access_key_id,
                    &credentials.secret_access_key,
                    None,
                    None,
                    "photoshare-static",
                )),
        };
        if let Some(endpoint) = &settings.endpoint {
            builder = builder.endpoint_url(endpoint).force_path_style(true);
        }
        Ok(ObjectStore::from_client(
            Client::from_conf(builder.build()),
            settings.bucket.clone(),
        ))
    }

    /// Wraps a client configured elsewhere.
    pub fn from_client(client: Client, bucket: String) -> ObjectStore {
        ObjectStore { client, bucket }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Checks that the bucket exists and the credentials may use it: the readiness check.
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| request_error("HeadBucket", &self.bucket, e))?;
        Ok(())
    }

    /// A URL that accepts one PUT of exactly `content_length` bytes of `content_type` to `key`
    /// until `expires_in` (whole seconds, 1 s to 7 days) has passed. It can be used more than
    /// once before then; each use replaces the object.
    pub async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedUpload, StorageError> {
        validate::key(key)?;
        validate::content_type(content_type)?;
        let length = validate::content_length(content_length)?;
        let (config, expires_at) = presigning(expires_in)?;
        let presigned = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .presigned(config)
            .await
            .map_err(|e| request_error("presign PutObject", key, e))?;

        let headers: BTreeMap<String, String> = presigned
            .headers()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
            .collect();
        // The point of presigning here is that these two are signed; if an SDK upgrade ever
        // stopped signing them, uploads of any size or type would pass silently.
        let signed = signed_headers(presigned.uri());
        for name in ["content-length", "content-type"] {
            if !signed.contains(&name) || !headers.contains_key(name) {
                return Err(StorageError::Request {
                    operation: "presign PutObject",
                    key: key.to_owned(),
                    status: None,
                    message: format!("the SDK did not sign `{name}`"),
                });
            }
        }
        Ok(PresignedUpload {
            url: presigned.uri().to_owned(),
            method: "PUT",
            headers,
            expires_at,
        })
    }

    /// A URL that answers GET with the object until `expires_in` (1 s to 7 days) has passed.
    pub async fn presign_get(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<String, StorageError> {
        validate::key(key)?;
        let (config, _) = presigning(expires_in)?;
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| request_error("presign GetObject", key, e))?;
        Ok(presigned.uri().to_owned())
    }

    /// The object's size and content type, or `None` when there is no such object.
    pub async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StorageError> {
        validate::key(key)?;
        let output = match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => output,
            Err(e) => {
                return match request_error("HeadObject", key, e) {
                    StorageError::NotFound { .. } => Ok(None),
                    other => Err(other),
                }
            }
        };
        let size = output
            .content_length()
            .and_then(|length| u64::try_from(length).ok())
            .ok_or_else(|| StorageError::Request {
                operation: "HeadObject",
                key: key.to_owned(),
                status: None,
                message: "the answer had no valid Content-Length".into(),
            })?;
        Ok(Some(ObjectMeta {
            size,
            content_type: output.content_type().map(str::to_owned),
        }))
    }

    /// Up to `len` bytes from offset `start`: fewer when the object is shorter, none when it
    /// ends before `start`. For sniffing a file's type from its first bytes.
    pub async fn get_range(&self, key: &str, start: u64, len: u64) -> Result<Bytes, StorageError> {
        validate::key(key)?;
        let range = validate::range(start, len)?;
        let result = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(range)
            .send()
            .await;
        match result {
            Ok(output) => collect(key, output.body).await,
            // 416: the object exists but is shorter than `start` (an empty object, for one).
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 416) => {
                Ok(Bytes::new())
            }
            Err(e) => Err(request_error("GetObject", key, e)),
        }
    }

    /// The whole object, in memory.
    pub async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        validate::key(key)?;
        let output = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| request_error("GetObject", key, e))?;
        collect(key, output.body).await
    }

    /// Writes the object, replacing any object with that key.
    pub async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<(), StorageError> {
        validate::key(key)?;
        validate::content_type(content_type)?;
        validate::content_length(bytes.len() as u64)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| request_error("PutObject", key, e))?;
        Ok(())
    }

    /// Deletes the object; deleting an object that does not exist succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        validate::key(key)?;
        match self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match request_error("DeleteObject", key, e) {
                StorageError::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
    }
}

/// The presigning configuration and the moment the URL stops working. The start time is fixed
/// here so that `expires_at` is exactly what was signed.
fn presigning(expires_in: Duration) -> Result<(PresigningConfig, SystemTime), StorageError> {
    let expires_in = validate::expiry(expires_in)?;
    let start = SystemTime::now();
    let config = PresigningConfig::builder()
        .start_time(start)
        .expires_in(expires_in)
        .build()
        .map_err(|e| StorageError::invalid("expiry", e.to_string()))?;
    Ok((config, start + expires_in))
}

/// The names in a presigned URL's `X-Amz-SignedHeaders` query parameter (`;`-separated,
/// URL-encoded as `%3B`).
fn signed_headers(url: &str) -> Vec<&str> {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("X-Amz-SignedHeaders="))
        .map(|value| value.split("%3B").flat_map(|v| v.split(';')).collect())
        .unwrap_or_default()
}

async fn collect(key: &str, body: ByteStream) -> Result<Bytes, StorageError> {
    body.collect()
        .await
        .map(|data| data.into_bytes())
        .map_err(|e| StorageError::Request {
            operation: "GetObject",
            key: key.to_owned(),
            status: None,
            message: format!("reading the body: {}", DisplayErrorContext(&e)),
        })
}

/// Sorts an SDK failure into `NotFound` or `Request`. HEAD answers carry no body and so no error
/// code, which is why a bare 404 counts as not found.
fn request_error<E>(
    operation: &'static str,
    key: &str,
    error: SdkError<E, HttpResponse>,
) -> StorageError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = error.raw_response().map(|r| r.status().as_u16());
    let code = error.code();
    if matches!(code, Some("NoSuchKey" | "NotFound")) || (status == Some(404) && code.is_none()) {
        return StorageError::NotFound {
            key: key.to_owned(),
        };
    }
    StorageError::Request {
        operation,
        key: key.to_owned(),
        status,
        message: DisplayErrorContext(&error).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_headers_are_read_from_the_query() {
        let url = "http://h/b/k?x-id=PutObject&X-Amz-Algorithm=AWS4-HMAC-SHA256\
                   &X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost&X-Amz-Signature=ab";
        assert_eq!(
            signed_headers(url),
            ["content-length", "content-type", "host"]
        );
        assert!(signed_headers("http://h/b/k").is_empty());
        assert!(signed_headers("http://h/b/k?X-Amz-Signature=ab").is_empty());
    }

    #[test]
    fn presigning_fixes_the_expiry_moment() {
        let before = SystemTime::now();
        let (config, expires_at) = presigning(Duration::from_secs(60)).unwrap();
        assert_eq!(config.expires(), Duration::from_secs(60));
        assert_eq!(expires_at, config.start_time() + Duration::from_secs(60));
        assert!(config.start_time() >= before);
        assert!(presigning(Duration::ZERO).is_err());
    }
}
