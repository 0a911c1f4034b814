//! The JSON shapes of the public API (API.md), with their OpenAPI schemas. Request bodies reject
//! unknown fields; ids are typed (`photoshare_ids`) and travel as strings because JavaScript
//! cannot hold 64-bit integers.

use photoshare_ids::UserId;
use photoshare_proto::common::v1::{PageInfo, PageRequest};
use photoshare_proto::users::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::body::{has_control, RequestBody};
use crate::problem::ApiError;

mod media;
mod social;

pub use media::{
    CreatePhotoBody, CreateUploadBody, Photo, PhotoPage, PhotoStatus, Placeholder, UpdatePhotoBody,
    Upload, Variant,
};
pub use social::{Comment, CommentBody, CommentPage, FollowAnswer, UserPage};

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUpBody {
    /// 3-30 of `a-z 0-9 _ .`, case-insensitive.
    #[schema(example = "ann.lee")]
    pub username: String,
    #[schema(example = "ann@example.com")]
    pub email: String,
    /// At least 8 characters.
    pub password: String,
    pub display_name: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// A username or an email address.
    pub login: String,
    pub password: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeBody {
    /// At most 64 characters.
    pub display_name: Option<String>,
    /// At most 150 characters.
    pub bio: Option<String>,
    pub is_private: Option<bool>,
}

impl RequestBody for SignUpBody {}
impl RequestBody for LoginBody {}
impl RequestBody for RefreshBody {}
impl RequestBody for UpdateMeBody {
    const MULTILINE: &'static [&'static str] = &["bio"];
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    pub user: Me,
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: u32,
}

/// The viewer's relationship to a profile.
#[derive(Debug, Serialize, ToSchema, Default)]
pub struct Relationship {
    pub following: bool,
    pub followed_by: bool,
    pub requested: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    #[schema(value_type = String, example = "1739182374651904")]
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub bio: String,
    pub is_private: bool,
    pub followers_count: u64,
    pub following_count: u64,
    pub photos_count: u64,
    pub relationship: Relationship,
}

/// The caller's own profile, with the email address.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    #[serde(flatten)]
    pub profile: Profile,
    pub email: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserSummary {
    #[schema(value_type = String, example = "1739182374651904")]
    pub id: UserId,
    pub username: String,
    pub display_name: String,
}

impl Profile {
    /// The profile of `user`, with the counts and the viewer's relationship from the graph
    /// service (`None`: no graph answer, all zero and false). The caller sets `photos_count`.
    pub fn from_user_and_graph(
        user: &pb::User,
        graph: Option<&photoshare_proto::graph::v1::Relationship>,
    ) -> Profile {
        let mut profile = Profile::from_user(user);
        if let Some(graph) = graph {
            profile.followers_count = graph.followers_count;
            profile.following_count = graph.following_count;
            profile.relationship = Relationship {
                following: graph.following,
                followed_by: graph.followed_by,
                requested: graph.requested,
            };
        }
        profile
    }

    /// The profile of `user` without graph data: zero counts, no relationship.
    pub fn from_user(user: &pb::User) -> Profile {
        Profile {
            id: UserId::from(user.id),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            bio: user.bio.clone(),
            is_private: user.is_private,
            followers_count: 0,
            following_count: 0,
            photos_count: 0,
            relationship: Relationship::default(),
        }
    }
}

impl UserSummary {
    pub fn from_user(user: &pb::User) -> UserSummary {
        UserSummary {
            id: UserId::from(user.id),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
        }
    }
}

impl Me {
    pub fn from_user(user: &pb::User) -> Me {
        Me {
            profile: Profile::from_user(user),
            email: user.email.clone(),
        }
    }
}

impl Session {
    pub fn from_proto(session: pb::Session) -> Option<Session> {
        Some(Session {
            user: Me::from_user(session.user.as_ref()?),
            access_token: session.access_token,
            refresh_token: session.refresh_token,
            token_type: "Bearer".to_owned(),
            expires_in: session.expires_in,
        })
    }
}

/// The list parameters of API.md: `?cursor=<opaque>&limit=<1..50>`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `next_cursor` of the previous page; absent or empty for the first page.
    pub cursor: Option<String>,
    /// Items per page, 1-50.
    #[param(minimum = 1, maximum = 50, default = 20)]
    pub limit: Option<u32>,
}

impl ListParams {
    pub const DEFAULT_LIMIT: u32 = 20;
    pub const MAX_LIMIT: u32 = 50;

    /// The page request for a service. The limit is checked here rather than left to the
    /// service, whose `0` means "default": `limit=0` from the app is a mistake, not a wish.
    /// The cursor is passed through untouched; only the service that made it can read it.
    pub fn page(self) -> Result<PageRequest, ApiError> {
        if self
            .cursor
            .as_deref()
            .is_some_and(|cursor| has_control(cursor, false))
        {
            return Err(ApiError::validation(
                "cursor must not contain control characters",
            ));
        }
        let limit = match self.limit {
            None => ListParams::DEFAULT_LIMIT,
            Some(limit) if (1..=ListParams::MAX_LIMIT).contains(&limit) => limit,
            Some(_) => {
                return Err(ApiError::validation(format!(
                    "limit must be between 1 and {}",
                    ListParams::MAX_LIMIT
                )))
            }
        };
        Ok(PageRequest {
            cursor: self.cursor.unwrap_or_default(),
            limit,
        })
    }
}

/// The `next_cursor` of a page: the services say "no next page" with an empty cursor, the API
/// says it with `null`.
pub fn next_cursor(page: Option<PageInfo>) -> Option<String> {
    page.map(|page| page.next_cursor)
        .filter(|cursor| !cursor.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(cursor: Option<&str>, limit: Option<u32>) -> ListParams {
        ListParams {
            cursor: cursor.map(str::to_owned),
            limit,
        }
    }

    #[test]
    fn limit_defaults_to_20_and_accepts_1_to_50() {
        assert_eq!(params(None, None).page().unwrap().limit, 20);
        assert_eq!(params(None, Some(1)).page().unwrap().limit, 1);
        assert_eq!(params(None, Some(50)).page().unwrap().limit, 50);
    }

    #[test]
    fn limit_outside_1_to_50_is_a_validation_error() {
        for limit in [0, 51, u32::MAX] {
            let error = params(None, Some(limit)).page().unwrap_err();
            assert_eq!(error.code, photoshare_proto::ErrorCode::ValidationFailed);
        }
    }

    #[test]
    fn a_cursor_with_control_characters_is_refused() {
        let error = params(Some("12\0"), None).page().unwrap_err();
        assert_eq!(error.code, photoshare_proto::ErrorCode::ValidationFailed);
    }

    #[test]
    fn cursor_is_passed_through_and_absent_means_from_the_start() {
        assert_eq!(params(None, None).page().unwrap().cursor, "");
        let page = params(Some("opaque=/+"), Some(5)).page().unwrap();
        assert_eq!(page.cursor, "opaque=/+");
    }

    #[test]
    fn limit_is_read_from_the_query_string() {
        use actix_web::web::Query;
        let parsed = Query::<ListParams>::from_query("cursor=abc&limit=7").unwrap();
        assert_eq!(parsed.cursor.as_deref(), Some("abc"));
        assert_eq!(parsed.limit, Some(7));
        // Not a number at all is refused by the extractor (`problem::query_error`, 400).
        assert!(Query::<ListParams>::from_query("limit=ten").is_err());
        assert!(Query::<ListParams>::from_query("limit=-1").is_err());
    }
}
