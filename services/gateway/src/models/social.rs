//! The JSON shapes of the social routes: follows, user lists, likes and comments (API.md).

use photoshare_ids::{CommentId, PhotoId};
use photoshare_proto::engagement::v1 as engagement;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::media::rfc3339_utc;
use super::UserSummary;
use crate::body::RequestBody;

/// The answer to a follow: `following`, or `requested` for a private account.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowAnswer {
    #[schema(example = "following")]
    pub state: String,
}

/// A page of people.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserSummary>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    /// 1 to 2200 characters; line breaks are kept.
    pub text: String,
}

impl RequestBody for CommentBody {
    const MULTILINE: &'static [&'static str] = &["text"];
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Comment {
    #[schema(value_type = String, example = "1739182374651904")]
    pub id: CommentId,
    #[schema(value_type = String, example = "1739182374651904")]
    pub photo_id: PhotoId,
    pub author: UserSummary,
    pub text: String,
    /// RFC 3339, UTC.
    pub created_at: String,
}

impl Comment {
    pub fn from_proto(comment: engagement::Comment, author: UserSummary) -> Comment {
        Comment {
            id: CommentId::from(comment.id),
            photo_id: PhotoId::from(comment.photo_id),
            author,
            text: comment.text,
            created_at: rfc3339_utc(comment.created_at_ms),
        }
    }
}

/// A page of comments, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentPage {
    pub items: Vec<Comment>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}
