//! The image worker: a consumer group on `photo.uploaded` that fetches each original, runs the
//! imaging pipeline (limits checked from the header, EXIF orientation, metadata stripped, three
//! JPEG variants and a BlurHash), stores the variants and reports to media over gRPC. Failures
//! become the photo's `failed` status; transient trouble is retried with backoff; poison goes to
//! `photo.uploaded.dlq`. `/livez`, `/readyz` and `/metrics` are served on its own port.
//!
//! It owns no data and must not write to media's database: it only reports.

mod handler;

use std::sync::Arc;
use std::time::Duration;

use photoshare_proto::media::v1::media_client::MediaClient;
use photoshare_proto::topics;
use photoshare_runtime::{Dev, RuntimeError, ServiceContext, ServiceSpec};
use photoshare_telemetry::grpc::ClientInterceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub use handler::ProcessUploads;

/// The consumer group: every worker replica shares the work.
pub const GROUP: &str = "image-worker";
/// Deadline of each report to media.
const MEDIA_TIMEOUT: Duration = Duration::from_secs(10);

pub type Media = MediaClient<InterceptedService<Channel, ClientInterceptor>>;

/// The image worker: the object store, `photo.uploaded` from the bus, ops endpoints on
/// `image_worker.listen`; `photoshare serve image-worker`.
pub static SPEC: ServiceSpec = ServiceSpec {
    name: "image-worker",
    database: None,
    outbox_relay: false,
    listen: |config| config.image_worker.listen,
    // Nobody calls it; its port serves the ops endpoints.
    dev: Dev::loopback(|_, _| {}),
    start: |context| Box::pin(start(context)),
};

async fn start(mut context: ServiceContext) -> Result<(), RuntimeError> {
    let config = context.config();
    let channel = photoshare_runtime::lazy_channel(&config.image_worker.media_url, MEDIA_TIMEOUT)
        .map_err(RuntimeError::ServiceUrl)?;
    let handler = Arc::new(ProcessUploads {
        objects: context.object_store().await?,
        media: MediaClient::with_interceptor(channel, ClientInterceptor),
        limits: photoshare_imaging::Limits {
            max_bytes: config.media.max_upload_bytes as usize,
            max_pixels: config.image_worker.max_pixels,
            ..photoshare_imaging::Limits::default()
        },
        timeout: Duration::from_secs(config.image_worker.processing_timeout_secs.max(1)),
    });
    context.spawn_ops()?;
    context
        .consume(GROUP, &[topics::PHOTO_UPLOADED], handler)
        .await
}
