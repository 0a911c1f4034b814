//! Where the bucket is and how to sign for it, as plain data filled from the configuration or
//! from an [`crate::EmbeddedS3`]. No I/O here: [`crate::ObjectStore::connect`] turns these into
//! a client.

use std::fmt;

use crate::{validate, StorageError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageSettings {
    /// An S3-compatible endpoint such as `http://127.0.0.1:9000`; requests then use path-style
    /// addressing (`<endpoint>/<bucket>/<key>`), which needs no DNS per bucket. `None` means
    /// AWS S3 in `region`, virtual-hosted style.
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    pub credentials: CredentialsSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialsSource {
    /// The standard AWS chain: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`,
    /// web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`, which is IRSA on EKS), the
    /// shared config and credentials files, ECS container and EC2 instance credentials.
    /// Temporary credentials are refreshed before they expire.
    DefaultChain,
    /// A fixed key pair, such as the embedded server's.
    Static(StaticCredentials),
}

/// An access key pair. `Debug` does not print the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

impl StorageSettings {
    /// Checks what can be checked without a network: the bucket name, the region, the endpoint
    /// URL and non-empty static credentials.
    pub fn validate(&self) -> Result<(), StorageError> {
        validate::bucket(&self.bucket).map_err(|e| StorageError::Config(e.to_string()))?;
        if self.region.is_empty()
            || !self
                .region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(StorageError::Config(format!(
                "region `{}` must be letters, digits and `-`, such as `eu-west-1`",
                self.region
            )));
        }
        if let Some(endpoint) = &self.endpoint {
            check_endpoint(endpoint)?;
        }
        if let CredentialsSource::Static(credentials) = &self.credentials {
            if credentials.access_key_id.is_empty() || credentials.secret_access_key.is_empty() {
                return Err(StorageError::Config(
                    "static credentials need an access key id and a secret access key".into(),
                ));
            }
        }
        Ok(())
    }
}

/// An endpoint is an `http` or `https` URL with a host and nothing after it: with path-style
/// addressing the SDK appends `/<bucket>/<key>` itself.
fn check_endpoint(endpoint: &str) -> Result<(), StorageError> {
    let bad = |reason: &str| {
        Err(StorageError::Config(format!(
            "endpoint `{endpoint}` {reason}"
        )))
    };
    let uri: hyper::Uri = match endpoint.parse() {
        Ok(uri) => uri,
        Err(_) => return bad("is not a URL"),
    };
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return bad("must start with http:// or https://");
    }
    if uri.host().is_none_or(str::is_empty) {
        return bad("has no host");
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return bad("must not carry credentials");
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return bad("must not have a path or a query");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(endpoint: Option<&str>) -> StorageSettings {
        StorageSettings {
            endpoint: endpoint.map(str::to_owned),
            bucket: "photoshare-media".into(),
            region: "eu-west-1".into(),
            credentials: CredentialsSource::DefaultChain,
        }
    }

    #[test]
    fn endpoints() {
        for ok in [
            None,
            Some("http://127.0.0.1:9000"),
            Some("https://s3.example.com/"),
            Some("http://[::1]:9000"),
        ] {
            assert!(settings(ok).validate().is_ok(), "{ok:?} should be accepted");
        }
        for bad in [
            "127.0.0.1:9000",
            "ftp://host",
            "http://host/bucket",
            "http://host?x=1",
            "http://user:pw@host",
            "",
            "not a url",
        ] {
            assert!(
                matches!(settings(Some(bad)).validate(), Err(StorageError::Config(_))),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn region_bucket_and_credentials_are_checked() {
        let mut s = settings(None);
        s.region = String::new();
        assert!(s.validate().is_err());
        s.region = "eu west".into();
        assert!(s.validate().is_err());

        let mut s = settings(None);
        s.bucket = "Bad_Bucket".into();
        assert!(s.validate().is_err());

        let mut s = settings(None);
        s.credentials = CredentialsSource::Static(StaticCredentials {
            access_key_id: "AKID".into(),
            secret_access_key: String::new(),
        });
        assert!(s.validate().is_err());
    }

    #[test]
    fn debug_hides_the_secret() {
        let credentials = StaticCredentials {
            access_key_id: "AKID".into(),
            secret_access_key: "hunter2".into(),
        };
        let shown = format!("{credentials:?}");
        assert!(shown.contains("AKID"));
        assert!(!shown.contains("hunter2"));
    }
}
