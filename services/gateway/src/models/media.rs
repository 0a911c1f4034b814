//! The JSON shapes of uploads and photos (API.md, "Uploads and photos") and how the media
//! service's messages become them. Times are RFC 3339 UTC with milliseconds. Fields that exist
//! only once a photo is processed (size, placeholder) or failed (the reason) are left out until
//! then rather than sent as zero or empty, so the app can test for their presence.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use photoshare_ids::{PhotoId, UploadId};
use photoshare_proto::media::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::UserSummary;
use crate::body::RequestBody;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUploadBody {
    /// `image/jpeg`, `image/png`, `image/webp`, `image/gif`, `image/heic` or `image/heif`.
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    /// The exact number of bytes that will be PUT; at most 20 MiB unless configured otherwise.
    #[schema(example = 2481152)]
    pub content_length: u64,
}

/// Where and how to PUT the image bytes, straight to object storage.
#[derive(Debug, Serialize, ToSchema)]
pub struct Upload {
    #[schema(value_type = String, example = "1739182374651904")]
    pub upload_id: UploadId,
    /// Presigned; works until `expires_at`.
    pub url: String,
    /// Always `PUT`.
    #[schema(example = "PUT")]
    pub method: String,
    /// Send exactly these headers with the PUT, or the signature does not match.
    pub headers: BTreeMap<String, String>,
    #[schema(example = "2025-03-01T12:15:00.000Z")]
    pub expires_at: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePhotoBody {
    /// From `POST /v1/uploads`, once the bytes are PUT. One upload makes at most one photo.
    #[schema(value_type = String, example = "1739182374651904")]
    pub upload_id: UploadId,
    /// At most 2200 characters; its `#hashtags` and `@mentions` are picked out.
    pub caption: Option<String>,
    /// At most 1000 characters.
    pub alt_text: Option<String>,
    /// At most 200 characters.
    pub location: Option<String>,
}

/// Absent fields stay as they are; an empty string clears one.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePhotoBody {
    /// At most 2200 characters; its `#hashtags` and `@mentions` are picked out again.
    pub caption: Option<String>,
    /// At most 1000 characters.
    pub alt_text: Option<String>,
    /// At most 200 characters.
    pub location: Option<String>,
}

impl RequestBody for CreateUploadBody {}
impl RequestBody for CreatePhotoBody {
    const MULTILINE: &'static [&'static str] = &["caption"];
}
impl RequestBody for UpdatePhotoBody {
    const MULTILINE: &'static [&'static str] = &["caption"];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PhotoStatus {
    /// The variants are being made; poll `GET /v1/photos/{id}`.
    Processing,
    Ready,
    /// Processing gave up; `failure_reason` says why.
    Failed,
}

impl PhotoStatus {
    /// The media service only sends these three words; anything else is read as "not ready
    /// yet", the one reading that never shows the app variants that do not exist.
    fn from_proto(status: &str) -> PhotoStatus {
        match status {
            "ready" => PhotoStatus::Ready,
            "failed" => PhotoStatus::Failed,
            _ => PhotoStatus::Processing,
        }
    }
}

/// Something to show while the image loads.
#[derive(Debug, Serialize, ToSchema)]
pub struct Placeholder {
    /// See blurha.sh; decode it to a tiny blurred image.
    pub blurhash: String,
}

/// One resized copy of the image; the original is never exposed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Variant {
    /// `thumb` (150x150, centre-cropped), `medium` (fits 640x640) or `large` (fits 1080x1080).
    #[schema(example = "medium")]
    pub name: String,
    pub width: u32,
    pub height: u32,
    #[schema(example = "image/jpeg")]
    pub content_type: String,
    /// Directly fetchable by the app.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Photo {
    #[schema(value_type = String, example = "1739182374651904")]
    pub id: PhotoId,
    pub author: UserSummary,
    pub caption: String,
    pub alt_text: String,
    pub location: String,
    /// The `#hashtags` of the caption.
    pub hashtags: Vec<String>,
    /// The `@mentions` of the caption.
    pub mentions: Vec<String>,
    pub status: PhotoStatus,
    /// Only when `status` is `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub failure_reason: Option<String>,
    /// Pixels; absent while processing.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub height: Option<u32>,
    /// Absent until processing has made one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub placeholder: Option<Placeholder>,
    /// Empty until the photo is ready.
    pub variants: Vec<Variant>,
    /// Likes, comments and `liked_by_me` belong to the engagement service, which is not built
    /// yet: until then they are 0, 0 and false.
    pub like_count: u64,
    pub comment_count: u64,
    pub liked_by_me: bool,
    #[schema(example = "2025-03-01T12:00:00.000Z")]
    pub created_at: String,
}

/// One page of photos.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoPage {
    pub items: Vec<Photo>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

impl Upload {
    pub fn from_proto(upload: pb::Upload) -> Upload {
        Upload {
            upload_id: UploadId::from(upload.id),
            url: upload.url,
            method: upload.method,
            headers: upload.headers.into_iter().collect(),
            expires_at: rfc3339_utc(upload.expires_at_ms),
        }
    }
}

impl Photo {
    /// `photo` with its author, who the caller looked up (see `hydrate`).
    pub fn from_proto(photo: pb::Photo, author: UserSummary) -> Photo {
        let status = PhotoStatus::from_proto(&photo.status);
        let failure_reason = (status == PhotoStatus::Failed).then(|| {
            if photo.failure_reason.is_empty() {
                // The contract promises a reason with every failure; never send an empty one.
                "the image could not be processed".to_owned()
            } else {
                photo.failure_reason
            }
        });
        Photo {
            id: PhotoId::from(photo.id),
            author,
            caption: photo.caption,
            alt_text: photo.alt_text,
            location: photo.location,
            hashtags: photo.hashtags,
            mentions: photo.mentions,
            status,
            failure_reason,
            // 0 is the media service's "not known yet"; no real image has a zero side.
            width: (photo.width > 0).then_some(photo.width),
            height: (photo.height > 0).then_some(photo.height),
            placeholder: (!photo.blurhash.is_empty()).then_some(Placeholder {
                blurhash: photo.blurhash,
            }),
            variants: photo
                .variants
                .into_iter()
                .map(Variant::from_proto)
                .collect(),
            like_count: 0,
            comment_count: 0,
            liked_by_me: false,
            created_at: rfc3339_utc(photo.created_at_ms),
        }
    }
}

impl Variant {
    fn from_proto(variant: pb::Variant) -> Variant {
        Variant {
            name: variant.name,
            width: variant.width,
            height: variant.height,
            content_type: variant.content_type,
            url: variant.url,
        }
    }
}

/// The last millisecond humantime can print (year 9999).
const MAX_RFC3339_MS: i64 = 253_402_300_799_999;

/// Unix milliseconds as RFC 3339 UTC, always with three fractional digits
/// (`2025-03-01T12:00:00.000Z`). Times before 1970 or after 9999, which no row holds, are
/// clamped rather than allowed to panic inside the formatter.
pub(crate) fn rfc3339_utc(ms: i64) -> String {
    let ms = u64::try_from(ms.clamp(0, MAX_RFC3339_MS)).unwrap_or_default();
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn author() -> UserSummary {
        UserSummary {
            id: photoshare_ids::UserId(42),
            username: "ann.lee".to_owned(),
            display_name: "Ann".to_owned(),
        }
    }

    fn processing() -> pb::Photo {
        pb::Photo {
            id: 18_446_744_073_709_551_615,
            author_id: 42,
            caption: "sunset #beach with @bob".to_owned(),
            hashtags: vec!["beach".to_owned()],
            mentions: vec!["bob".to_owned()],
            status: "processing".to_owned(),
            created_at_ms: 1_740_830_400_123,
            ..Default::default()
        }
    }

    fn to_json(photo: pb::Photo) -> Value {
        serde_json::to_value(Photo::from_proto(photo, author())).unwrap()
    }

    #[test]
    fn a_processing_photo_leaves_out_what_is_not_known_yet() {
        let json = to_json(processing());
        let object = json.as_object().unwrap();
        for absent in ["failure_reason", "width", "height", "placeholder"] {
            assert!(!object.contains_key(absent), "{absent} present in {json}");
        }
        assert_eq!(json["status"], "processing");
        assert_eq!(json["variants"], json!([]));
        assert_eq!(json["hashtags"], json!(["beach"]));
        assert_eq!(json["mentions"], json!(["bob"]));
        assert_eq!(json["like_count"], 0);
        assert_eq!(json["comment_count"], 0);
        assert_eq!(json["liked_by_me"], false);
    }

    #[test]
    fn ids_are_strings_even_beyond_what_javascript_can_hold() {
        let json = to_json(processing());
        assert_eq!(json["id"], "18446744073709551615");
        assert_eq!(json["author"]["id"], "42");
        assert_eq!(json["author"]["username"], "ann.lee");
        assert_eq!(json["author"]["display_name"], "Ann");
    }

    #[test]
    fn a_ready_photo_has_size_placeholder_and_variants() {
        let photo = pb::Photo {
            status: "ready".to_owned(),
            width: 4032,
            height: 3024,
            blurhash: "LEHV6nWB2yk8pyo0adR*.7kCMdnj".to_owned(),
            variants: vec![pb::Variant {
                name: "thumb".to_owned(),
                width: 150,
                height: 150,
                content_type: "image/jpeg".to_owned(),
                url: "https://cdn.example/t.jpg".to_owned(),
            }],
            ..processing()
        };
        let json = to_json(photo);
        assert_eq!(json["status"], "ready");
        assert_eq!(json["width"], 4032);
        assert_eq!(json["height"], 3024);
        assert_eq!(
            json["placeholder"],
            json!({"blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj"})
        );
        assert_eq!(
            json["variants"],
            json!([{"name": "thumb", "width": 150, "height": 150,
                    "content_type": "image/jpeg", "url": "https://cdn.example/t.jpg"}])
        );
        assert!(!json.as_object().unwrap().contains_key("failure_reason"));
    }

    #[test]
    fn failure_reason_appears_only_on_failed_photos() {
        let failed = pb::Photo {
            status: "failed".to_owned(),
            failure_reason: "the image has too many pixels".to_owned(),
            ..processing()
        };
        let json = to_json(failed);
        assert_eq!(json["status"], "failed");
        assert_eq!(json["failure_reason"], "the image has too many pixels");

        let silent = pb::Photo {
            status: "failed".to_owned(),
            ..processing()
        };
        assert!(!to_json(silent)["failure_reason"]
            .as_str()
            .unwrap()
            .is_empty());

        let stale_reason = pb::Photo {
            status: "ready".to_owned(),
            failure_reason: "left over".to_owned(),
            ..processing()
        };
        assert!(!to_json(stale_reason)
            .as_object()
            .unwrap()
            .contains_key("failure_reason"));
    }

    #[test]
    fn unknown_statuses_read_as_processing() {
        let odd = pb::Photo {
            status: "quarantined".to_owned(),
            ..processing()
        };
        assert_eq!(to_json(odd)["status"], "processing");
    }

    #[test]
    fn times_are_rfc3339_utc_with_milliseconds() {
        assert_eq!(
            to_json(processing())["created_at"],
            "2025-03-01T12:00:00.123Z"
        );
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_utc(-1), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_utc(i64::MAX), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn uploads_carry_their_id_as_a_string_and_sorted_headers() {
        let upload = Upload::from_proto(pb::Upload {
            id: 7,
            url: "https://s3.example/bucket/key?X-Amz-Signature=abc".to_owned(),
            method: "PUT".to_owned(),
            headers: [
                ("content-type".to_owned(), "image/jpeg".to_owned()),
                ("content-length".to_owned(), "2481152".to_owned()),
            ]
            .into_iter()
            .collect(),
            expires_at_ms: 1_740_831_300_000,
        });
        let json = serde_json::to_value(upload).unwrap();
        assert_eq!(json["upload_id"], "7");
        assert_eq!(json["method"], "PUT");
        assert_eq!(
            json["headers"],
            json!({"content-length": "2481152", "content-type": "image/jpeg"})
        );
        assert_eq!(json["expires_at"], "2025-03-01T12:15:00.000Z");
    }

    #[test]
    fn a_page_says_null_when_there_is_no_next_one() {
        let json = serde_json::to_value(PhotoPage {
            items: vec![],
            next_cursor: None,
        })
        .unwrap();
        assert_eq!(json, json!({"items": [], "next_cursor": null}));
    }
}
