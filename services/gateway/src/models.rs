//! The JSON shapes of the public API (API.md), with their OpenAPI schemas. Request bodies reject
//! unknown fields; ids are strings because JavaScript cannot hold 64-bit integers.

use photoshare_proto::users::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// A username or an email address.
    pub login: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeBody {
    /// At most 64 characters.
    pub display_name: Option<String>,
    /// At most 150 characters.
    pub bio: Option<String>,
    pub is_private: Option<bool>,
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
    #[schema(example = "1739182374651904")]
    pub id: String,
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

#[derive(Debug, Serialize, ToSchema)]
pub struct UserSummary {
    pub id: String,
    pub username: String,
    pub display_name: String,
}

impl Profile {
    /// The profile of `user` as seen by someone. Followers, following and photo counts and the
    /// relationship belong to the graph and media services, which are not built yet: until then
    /// they are zero and false.
    pub fn from_user(user: &pb::User) -> Profile {
        Profile {
            id: user.id.to_string(),
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
