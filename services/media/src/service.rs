//! The `photoshare.media.v1.Media` gRPC service: the rules of uploads and photos on top of the
//! store and the object storage.

use photoshare_ids::unix_ms_now;
use std::sync::Arc;
use std::time::Duration;

use photoshare_config::MediaConfig;
use photoshare_events::Message;
use photoshare_ids::IdGenerator;
use photoshare_proto::events::v1 as events;
use photoshare_proto::media::v1 as pb;
use photoshare_proto::page::Page;
use photoshare_proto::Event;
use photoshare_storage::ObjectStore;
use tokio::sync::Notify;
use tonic::{Request, Response, Status};

use crate::domain::{self, accepted_type, sniff};
use crate::error::MediaError;
use crate::store::{NewPhoto, Outcome, PhotoRecord, Store, StoredVariant, UploadRecord};

/// Most photos one batch call answers for.
pub const MAX_BATCH: usize = 100;
/// Enough of the object to recognise every accepted format.
const SNIFF_BYTES: u64 = 64;

pub struct MediaService {
    store: Store,
    objects: ObjectStore,
    ids: Arc<IdGenerator>,
    config: MediaConfig,
    relay_wake: Arc<Notify>,
}

impl MediaService {
    pub fn new(
        store: Store,
        objects: ObjectStore,
        ids: Arc<IdGenerator>,
        config: MediaConfig,
        relay_wake: Arc<Notify>,
    ) -> Self {
        MediaService {
            store,
            objects,
            ids,
            config,
            relay_wake,
        }
    }

    async fn create_upload(
        &self,
        request: pb::CreateUploadRequest,
    ) -> Result<pb::Upload, MediaError> {
        let Some((content_type, _)) = accepted_type(&request.content_type) else {
            return Err(MediaError::UnsupportedType(format!(
                "`{}` is not accepted: send image/jpeg, image/png, image/webp, image/gif, image/heic or image/heif",
                request.content_type
            )));
        };
        if request.content_length == 0 {
            return Err(MediaError::Invalid(
                "content_length must be at least 1 byte".into(),
            ));
        }
        if request.content_length > self.config.max_upload_bytes {
            return Err(MediaError::TooLarge(format!(
                "content_length {} is above the limit of {} bytes",
                request.content_length, self.config.max_upload_bytes
            )));
        }
        let now = unix_ms_now();
        let id = self.ids.next_id();
        let wanted = UploadRecord {
            id,
            user_id: request.user_id,
            object_key: format!("originals/{}/{id}", request.user_id),
            content_type: content_type.to_owned(),
            content_length: request.content_length,
            expires_at_ms: now + (self.config.upload_expiry_secs * 1000) as i64,
            idempotency_key: Some(request.idempotency_key).filter(|key| !key.is_empty()),
            photo_id: None,
        };
        let upload = self.store.create_upload(&wanted, now).await?;
        if upload.id != wanted.id
            && (upload.content_type != wanted.content_type
                || upload.content_length != wanted.content_length)
        {
            return Err(MediaError::Invalid(
                "this Idempotency-Key was already used for a different upload".into(),
            ));
        }
        let remaining_ms = upload.expires_at_ms - now;
        if remaining_ms < 1000 {
            return Err(MediaError::UploadExpired);
        }
        let presigned = self
            .objects
            .presign_put(
                &upload.object_key,
                &upload.content_type,
                upload.content_length,
                Duration::from_millis(remaining_ms as u64),
            )
            .await?;
        Ok(pb::Upload {
            id: upload.id,
            url: presigned.url,
            method: presigned.method.to_owned(),
            headers: presigned.headers.into_iter().collect(),
            expires_at_ms: upload.expires_at_ms,
        })
    }

    async fn create_photo(&self, request: pb::CreatePhotoRequest) -> Result<pb::Photo, MediaError> {
        let texts = Texts::parse(
            request.caption.as_deref(),
            request.alt_text.as_deref(),
            request.location.as_deref(),
        )?;
        let upload = self
            .store
            .upload(request.upload_id)
            .await?
            .filter(|upload| upload.user_id == request.user_id)
            .ok_or(MediaError::NotFound("upload"))?;
        if let Some(photo_id) = upload.photo_id {
            // Completing again (a retry) answers with the photo it already became.
            return self.view_by_id(photo_id, request.user_id).await;
        }
        let now = unix_ms_now();
        if now > upload.expires_at_ms + (self.config.completion_grace_secs * 1000) as i64 {
            return Err(MediaError::UploadExpired);
        }
        self.check_uploaded_object(&upload).await?;

        let photo_id = self.ids.next_id();
        let caption = texts.caption.unwrap_or_default();
        let hashtags = domain::hashtags(&caption);
        let mentions = domain::mentions(&caption);
        let event_id = self.ids.next_id();
        let payload = events::PhotoUploaded {
            photo_id,
            author_id: upload.user_id,
            object_key: upload.object_key.clone(),
            content_type: upload.content_type.clone(),
        };
        let event = Message::from_event(&Event::PhotoUploaded(payload), event_id, now);
        let created = self
            .store
            .create_photo(
                &NewPhoto {
                    id: photo_id,
                    upload: &upload,
                    caption: &caption,
                    alt_text: texts.alt_text.as_deref().unwrap_or_default(),
                    location: texts.location.as_deref().unwrap_or_default(),
                    hashtags: &hashtags,
                    mentions: &mentions,
                    now_ms: now,
                },
                event_id,
                &event,
            )
            .await?;
        self.relay_wake.notify_one();
        tracing::info!(photo_id = created, upload_id = upload.id, "photo created");
        self.view_by_id(created, request.user_id).await
    }

    /// The object must exist, have the declared size and start like the declared type; a
    /// mismatching object is deleted so that it costs nothing.
    async fn check_uploaded_object(&self, upload: &UploadRecord) -> Result<(), MediaError> {
        let meta = self
            .objects
            .head(&upload.object_key)
            .await?
            .ok_or(MediaError::UploadIncomplete)?;
        if meta.size != upload.content_length {
            self.objects.delete(&upload.object_key).await?;
            return Err(MediaError::InvalidImage(format!(
                "the uploaded object has {} bytes, but {} were declared",
                meta.size, upload.content_length
            )));
        }
        let head = self
            .objects
            .get_range(&upload.object_key, 0, SNIFF_BYTES)
            .await?;
        let declared = accepted_type(&upload.content_type).map(|(_, sniffed)| sniffed);
        if sniff(&head) != declared || declared.is_none() {
            self.objects.delete(&upload.object_key).await?;
            return Err(MediaError::InvalidImage(format!(
                "the uploaded bytes are not a {} image",
                upload.content_type
            )));
        }
        Ok(())
    }

    async fn view_by_id(&self, photo_id: u64, viewer: u64) -> Result<pb::Photo, MediaError> {
        let photo = self
            .store
            .photo(photo_id)
            .await?
            .ok_or(MediaError::NotFound("photo"))?;
        if !visible(&photo, viewer) {
            return Err(MediaError::NotFound("photo"));
        }
        self.view(&photo).await
    }

    /// The photo as the API shows it, variant URLs included.
    async fn view(&self, photo: &PhotoRecord) -> Result<pb::Photo, MediaError> {
        let mut variants = Vec::with_capacity(photo.variants.len());
        for variant in &photo.variants {
            variants.push(pb::Variant {
                name: variant.name.clone(),
                width: variant.width,
                height: variant.height,
                content_type: variant.content_type.clone(),
                url: self.variant_url(&variant.object_key).await?,
            });
        }
        Ok(pb::Photo {
            id: photo.id,
            author_id: photo.author_id,
            caption: photo.caption.clone(),
            alt_text: photo.alt_text.clone(),
            location: photo.location.clone(),
            hashtags: photo.hashtags.clone(),
            mentions: photo.mentions.clone(),
            status: photo.status.clone(),
            failure_reason: photo.failure_reason.clone().unwrap_or_default(),
            width: photo.width,
            height: photo.height,
            blurhash: photo.blurhash.clone().unwrap_or_default(),
            variants,
            created_at_ms: photo.created_at_ms,
        })
    }

    async fn variant_url(&self, key: &str) -> Result<String, MediaError> {
        if let Some(base) = &self.config.public_base_url {
            return Ok(format!("{}/{key}", base.trim_end_matches('/')));
        }
        Ok(self
            .objects
            .presign_get(
                key,
                Duration::from_secs(self.config.variant_url_ttl_secs.max(1)),
            )
            .await?)
    }

    /// The photo if `user` may change it: others get 404 when they cannot see it, 403 when they can.
    async fn owned_photo(&self, photo_id: u64, user: u64) -> Result<PhotoRecord, MediaError> {
        let photo = self
            .store
            .photo(photo_id)
            .await?
            .filter(|photo| visible(photo, user))
            .ok_or(MediaError::NotFound("photo"))?;
        if photo.author_id != user {
            return Err(MediaError::Forbidden);
        }
        Ok(photo)
    }

    async fn update_photo(&self, request: pb::UpdatePhotoRequest) -> Result<pb::Photo, MediaError> {
        self.owned_photo(request.photo_id, request.user_id).await?;
        let texts = Texts::parse(
            request.caption.as_deref(),
            request.alt_text.as_deref(),
            request.location.as_deref(),
        )?;
        let tags = texts
            .caption
            .as_deref()
            .map(|caption| (domain::hashtags(caption), domain::mentions(caption)));
        let caption = match (&texts.caption, &tags) {
            (Some(text), Some((hashtags, mentions))) => {
                Some((text.as_str(), hashtags.as_slice(), mentions.as_slice()))
            }
            _ => None,
        };
        self.store
            .update_texts(
                request.photo_id,
                caption,
                texts.alt_text.as_deref(),
                texts.location.as_deref(),
                unix_ms_now(),
            )
            .await?;
        self.view_by_id(request.photo_id, request.user_id).await
    }

    async fn delete_photo(&self, request: pb::DeletePhotoRequest) -> Result<(), MediaError> {
        let photo = self.owned_photo(request.photo_id, request.user_id).await?;
        let event_id = self.ids.next_id();
        let payload = events::PhotoDeleted {
            photo_id: photo.id,
            author_id: photo.author_id,
        };
        let now = unix_ms_now();
        let event = Message::from_event(&Event::PhotoDeleted(payload), event_id, now);
        if self
            .store
            .delete_photo(photo.id, event_id, &event, now)
            .await?
        {
            self.relay_wake.notify_one();
            self.delete_objects(&photo.original_key, &photo.variants)
                .await;
        }
        Ok(())
    }

    /// Best effort: a failure leaves an orphan object (the bucket lifecycle expires originals),
    /// never a visible photo.
    async fn delete_objects(&self, original: &str, variants: &[StoredVariant]) {
        let keys = std::iter::once(original).chain(variants.iter().map(|v| v.object_key.as_str()));
        for key in keys {
            if let Err(error) = self.objects.delete(key).await {
                tracing::warn!(%error, key, "could not delete an object of a deleted photo");
            }
        }
    }

    async fn list_photos(
        &self,
        request: pb::ListPhotosRequest,
    ) -> Result<pb::ListPhotosResponse, MediaError> {
        let page = Page::parse(request.page.as_ref()).map_err(MediaError::Invalid)?;
        let before = page.after.unwrap_or(u64::MAX);
        let ready_only = request.viewer_id != request.author_id;
        let mut photos = self
            .store
            .photos_of(request.author_id, before, page.limit + 1, ready_only)
            .await?;
        let next_cursor =
            photoshare_proto::page::next_cursor(&mut photos, page.limit, |photo| photo.id);
        let mut views = Vec::with_capacity(photos.len());
        for photo in &photos {
            views.push(self.view(photo).await?);
        }
        Ok(pb::ListPhotosResponse {
            photos: views,
            page: Some(photoshare_proto::common::v1::PageInfo { next_cursor }),
        })
    }

    async fn report_processing(
        &self,
        request: pb::ReportProcessingRequest,
    ) -> Result<(), MediaError> {
        let photo = self
            .store
            .photo(request.photo_id)
            .await?
            .ok_or(MediaError::NotFound("photo"))?;
        let now = unix_ms_now();
        match request.outcome {
            Some(pb::report_processing_request::Outcome::Processed(processed)) => {
                let variants: Vec<StoredVariant> = processed
                    .variants
                    .into_iter()
                    .map(|variant| StoredVariant {
                        name: variant.name,
                        width: variant.width,
                        height: variant.height,
                        content_type: variant.content_type,
                        object_key: variant.object_key,
                    })
                    .collect();
                if photo.deleted {
                    // Deleted while it was being processed: the new variants must not linger.
                    self.delete_objects(&photo.original_key, &variants).await;
                    return Ok(());
                }
                let event_id = self.ids.next_id();
                let payload = events::PhotoPublished {
                    photo_id: photo.id,
                    author_id: photo.author_id,
                    created_at_ms: photo.created_at_ms,
                };
                let event = Message::from_event(&Event::PhotoPublished(payload), event_id, now);
                let outcome = Outcome::Ready {
                    width: processed.width,
                    height: processed.height,
                    blurhash: &processed.blurhash,
                    variants: &variants,
                };
                if self
                    .store
                    .finish_processing(photo.id, &outcome, Some((event_id, &event)), now)
                    .await?
                {
                    self.relay_wake.notify_one();
                    tracing::info!(photo_id = photo.id, "photo ready");
                }
            }
            Some(pb::report_processing_request::Outcome::FailureReason(reason)) => {
                let outcome = Outcome::Failed { reason: &reason };
                if self
                    .store
                    .finish_processing(photo.id, &outcome, None, now)
                    .await?
                {
                    tracing::info!(photo_id = photo.id, reason, "photo failed");
                }
            }
            None => return Err(MediaError::Invalid("an outcome is required".into())),
        }
        Ok(())
    }
}

/// Who sees a photo: nobody once deleted; its author always; others once it is ready.
/// (Private accounts narrow this further when the graph service exists.)
fn visible(photo: &PhotoRecord, viewer: u64) -> bool {
    !photo.deleted && (photo.author_id == viewer || photo.status == "ready")
}

struct Texts {
    caption: Option<String>,
    alt_text: Option<String>,
    location: Option<String>,
}

impl Texts {
    fn parse(
        caption: Option<&str>,
        alt_text: Option<&str>,
        location: Option<&str>,
    ) -> Result<Texts, MediaError> {
        let field = |name, value: Option<&str>, max| {
            value
                .map(|text| domain::parse_text(name, text, max))
                .transpose()
                .map_err(MediaError::Invalid)
        };
        Ok(Texts {
            caption: field("caption", caption, domain::CAPTION_MAX_CHARS)?,
            alt_text: field("alt_text", alt_text, domain::ALT_TEXT_MAX_CHARS)?,
            location: field("location", location, domain::LOCATION_MAX_CHARS)?,
        })
    }
}

#[tonic::async_trait]
impl pb::media_server::Media for MediaService {
    async fn create_upload(
        &self,
        request: Request<pb::CreateUploadRequest>,
    ) -> Result<Response<pb::Upload>, Status> {
        Ok(Response::new(
            MediaService::create_upload(self, request.into_inner()).await?,
        ))
    }

    async fn create_photo(
        &self,
        request: Request<pb::CreatePhotoRequest>,
    ) -> Result<Response<pb::Photo>, Status> {
        Ok(Response::new(
            MediaService::create_photo(self, request.into_inner()).await?,
        ))
    }

    async fn get_photo(
        &self,
        request: Request<pb::GetPhotoRequest>,
    ) -> Result<Response<pb::Photo>, Status> {
        let request = request.into_inner();
        Ok(Response::new(
            self.view_by_id(request.photo_id, request.viewer_id).await?,
        ))
    }

    async fn batch_get_photos(
        &self,
        request: Request<pb::BatchGetPhotosRequest>,
    ) -> Result<Response<pb::BatchGetPhotosResponse>, Status> {
        let request = request.into_inner();
        if request.photo_ids.len() > MAX_BATCH {
            return Err(
                MediaError::Invalid(format!("at most {MAX_BATCH} photos per batch")).into(),
            );
        }
        let found = self.store.photos(&request.photo_ids).await?;
        let mut photos = Vec::with_capacity(found.len());
        for id in &request.photo_ids {
            if let Some(photo) = found
                .iter()
                .find(|photo| photo.id == *id && visible(photo, request.viewer_id))
            {
                photos.push(self.view(photo).await?);
            }
        }
        Ok(Response::new(pb::BatchGetPhotosResponse { photos }))
    }

    async fn update_photo(
        &self,
        request: Request<pb::UpdatePhotoRequest>,
    ) -> Result<Response<pb::Photo>, Status> {
        Ok(Response::new(
            MediaService::update_photo(self, request.into_inner()).await?,
        ))
    }

    async fn delete_photo(
        &self,
        request: Request<pb::DeletePhotoRequest>,
    ) -> Result<Response<pb::DeletePhotoResponse>, Status> {
        MediaService::delete_photo(self, request.into_inner()).await?;
        Ok(Response::new(pb::DeletePhotoResponse {}))
    }

    async fn list_photos(
        &self,
        request: Request<pb::ListPhotosRequest>,
    ) -> Result<Response<pb::ListPhotosResponse>, Status> {
        Ok(Response::new(
            MediaService::list_photos(self, request.into_inner()).await?,
        ))
    }

    async fn count_photos(
        &self,
        request: Request<pb::CountPhotosRequest>,
    ) -> Result<Response<pb::CountPhotosResponse>, Status> {
        let request = request.into_inner();
        if request.author_ids.len() > MAX_BATCH {
            return Err(
                MediaError::Invalid(format!("at most {MAX_BATCH} authors per call")).into(),
            );
        }
        let counts = self.store.count_photos(&request.author_ids).await?;
        Ok(Response::new(pb::CountPhotosResponse {
            counts: counts.into_iter().collect(),
        }))
    }

    async fn report_processing(
        &self,
        request: Request<pb::ReportProcessingRequest>,
    ) -> Result<Response<pb::ReportProcessingResponse>, Status> {
        MediaService::report_processing(self, request.into_inner()).await?;
        Ok(Response::new(pb::ReportProcessingResponse {}))
    }
}
