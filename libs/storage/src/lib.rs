//! Object storage for photoshare: [`ObjectStore`] puts, reads and deletes objects in one bucket
//! and presigns the URLs that let a phone upload or download straight to or from the bucket;
//! [`EmbeddedS3`] is an S3-protocol server over a local folder for `photoshare dev` and tests.
//!
//! There is one code path: the same aws-sdk-s3 client talks to AWS S3 in production and to the
//! embedded server in development, and the embedded server checks SigV4 signatures (presigned
//! URLs included) the way S3 does, so an upload that works in tests works against AWS.
//! This crate knows no service and no key layout; callers choose the keys.

mod embedded;
mod error;
mod settings;
mod store;
mod validate;

pub use embedded::{EmbeddedS3, EmbeddedS3Config};
pub use error::StorageError;
pub use settings::{CredentialsSource, StaticCredentials, StorageSettings};
pub use store::{ObjectMeta, ObjectStore, PresignedUpload};
pub use validate::{MAX_KEY_BYTES, MAX_PRESIGN_EXPIRY, MAX_PUT_BYTES};
