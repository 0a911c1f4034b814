//! Handling one `photo.uploaded` event: fetch the original, process it behind the limits, store
//! the variants, report the outcome to media. Bad images end as a reported failure (never a
//! retry loop); infrastructure trouble is retried. Re-delivery is harmless: variant keys are
//! fixed per photo and media ignores a second report.

use std::time::Duration;

use async_trait::async_trait;
use photoshare_events::{Handler, HandlerError, Message};
use photoshare_imaging::{Limits, Processed};
use photoshare_proto::media::v1 as media;
use photoshare_proto::{ErrorCode, Event};
use photoshare_storage::ObjectStore;

use crate::Media;

pub struct ProcessUploads {
    pub objects: ObjectStore,
    pub media: Media,
    pub limits: Limits,
    pub timeout: Duration,
}

fn transient(what: &str, error: impl std::fmt::Display) -> HandlerError {
    HandlerError::Transient(format!("{what}: {error}"))
}

impl ProcessUploads {
    async fn report(
        &self,
        photo_id: u64,
        outcome: media::report_processing_request::Outcome,
    ) -> Result<(), HandlerError> {
        let reported = self
            .media
            .clone()
            .report_processing(media::ReportProcessingRequest {
                photo_id,
                outcome: Some(outcome),
            })
            .await;
        match reported {
            Ok(_) => Ok(()),
            // The photo is gone: nothing left to tell.
            Err(status) if ErrorCode::from_status(&status) == ErrorCode::NotFound => Ok(()),
            Err(status) => Err(transient("reporting to media", status.message())),
        }
    }

    async fn fail(&self, photo_id: u64, reason: String) -> Result<(), HandlerError> {
        tracing::info!(photo_id, reason, "image refused");
        self.report(
            photo_id,
            media::report_processing_request::Outcome::FailureReason(reason),
        )
        .await
    }

    /// Decodes and re-encodes on the blocking pool, within the time limit. A decoder that panics
    /// has met bytes it cannot handle: that is the image's failure, not the worker's.
    async fn run_pipeline(&self, bytes: bytes::Bytes) -> Result<Processed, String> {
        let limits = self.limits;
        let work =
            tokio::task::spawn_blocking(move || photoshare_imaging::process(&bytes, &limits));
        match tokio::time::timeout(self.timeout, work).await {
            Ok(Ok(Ok(processed))) => Ok(processed),
            Ok(Ok(Err(error))) => Err(error.reason()),
            Ok(Err(_panic)) => Err("the image could not be decoded".to_owned()),
            Err(_) => Err(format!(
                "processing took longer than {} s",
                self.timeout.as_secs()
            )),
        }
    }
}

#[async_trait]
impl Handler for ProcessUploads {
    async fn handle(&self, message: &Message) -> Result<(), HandlerError> {
        let uploaded = match message.decode_event() {
            Ok(Event::PhotoUploaded(uploaded)) => uploaded,
            Ok(other) => {
                let topic = other.topic();
                return Err(HandlerError::Poison(format!(
                    "not a photo.uploaded: {topic}"
                )));
            }
            Err(error) => return Err(HandlerError::Poison(error.to_string())),
        };
        let photo_id = uploaded.photo_id;

        let meta = self
            .objects
            .head(&uploaded.object_key)
            .await
            .map_err(|error| transient("reading the original's size", error))?;
        let Some(meta) = meta else {
            return self
                .fail(photo_id, "the uploaded file is gone".to_owned())
                .await;
        };
        if meta.size > self.limits.max_bytes as u64 {
            return self
                .fail(
                    photo_id,
                    format!("the file is larger than {} bytes", self.limits.max_bytes),
                )
                .await;
        }
        let bytes = self
            .objects
            .get(&uploaded.object_key)
            .await
            .map_err(|error| transient("fetching the original", error))?;

        let processed = match self.run_pipeline(bytes).await {
            Ok(processed) => processed,
            Err(reason) => return self.fail(photo_id, reason).await,
        };
        let mut stored = Vec::with_capacity(processed.variants.len());
        for variant in processed.variants {
            let key = format!(
                "variants/{}/{photo_id}/{}.jpg",
                uploaded.author_id, variant.name
            );
            self.objects
                .put(
                    &key,
                    bytes::Bytes::from(variant.bytes),
                    variant.content_type,
                )
                .await
                .map_err(|error| transient("storing a variant", error))?;
            stored.push(media::StoredVariant {
                name: variant.name.to_owned(),
                width: variant.width,
                height: variant.height,
                content_type: variant.content_type.to_owned(),
                object_key: key,
            });
        }
        tracing::info!(
            photo_id,
            width = processed.width,
            height = processed.height,
            "image processed"
        );
        self.report(
            photo_id,
            media::report_processing_request::Outcome::Processed(media::Processed {
                width: processed.width,
                height: processed.height,
                blurhash: processed.blurhash,
                variants: stored,
            }),
        )
        .await
    }
}
