//! Ids and usernames in paths (`/v1/photos/{id}`, `/v1/users/{username}`), parsed once at the
//! edge. A segment that cannot be what it stands for names nothing: 404, as for one that
//! exists nowhere, and it never travels further (a NUL would fail a PostgreSQL query).

use std::future::{ready, Ready};
use std::str::FromStr;

use actix_web::{FromRequest, HttpRequest};
use photoshare_ids::{CommentId, PhotoId};

use crate::problem::ApiError;

/// The `{id}` segment of the path as a `T`. A malformed id names nothing, so it answers 404 like
/// any id that exists nowhere, not 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathId<T>(pub T);

/// An id that can stand in a path, and what its 404 says.
pub trait InPath: FromStr {
    const NOT_FOUND: &'static str;
}

impl InPath for PhotoId {
    const NOT_FOUND: &'static str = "no such photo";
}

impl InPath for CommentId {
    const NOT_FOUND: &'static str = "no such comment";
}

impl<T: InPath> FromRequest for PathId<T> {
    type Error = ApiError;
    type Future = Ready<Result<PathId<T>, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let id = request
            .match_info()
            .get("id")
            .and_then(|raw| raw.parse().ok())
            .map(PathId)
            .ok_or_else(|| ApiError::not_found(T::NOT_FOUND));
        ready(id)
    }
}

/// The `{username}` segment of the path, when it can be a username (API.md: 3-30 of
/// `a-z 0-9 _ .`, any case); anything else is 404 `not_found` without asking the users service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathUsername(pub String);

impl PathUsername {
    fn parse(raw: &str) -> Option<PathUsername> {
        let plausible = (3..=30).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
        plausible.then(|| PathUsername(raw.to_owned()))
    }
}

impl FromRequest for PathUsername {
    type Error = ApiError;
    type Future = Ready<Result<PathUsername, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let username = request
            .match_info()
            .get("username")
            .and_then(PathUsername::parse)
            .ok_or_else(|| ApiError::not_found("no such user"));
        ready(username)
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use photoshare_proto::ErrorCode;

    use super::*;

    async fn extract<T: InPath>(raw: &'static str) -> Result<PathId<T>, ApiError> {
        let (request, mut payload) = TestRequest::default().param("id", raw).to_http_parts();
        PathId::<T>::from_request(&request, &mut payload).await
    }

    #[actix_web::test]
    async fn a_path_segment_that_cannot_be_a_username_is_not_found() {
        for (raw, expected) in [("Ann.Lee_9", true), ("abc", true), (&*"a".repeat(30), true)] {
            let (request, mut payload) = TestRequest::default()
                .param("username", raw.to_owned())
                .to_http_parts();
            let found = PathUsername::from_request(&request, &mut payload).await;
            assert_eq!(found.is_ok(), expected, "{raw:?}");
        }
        for raw in [
            "ab",
            &*"a".repeat(31),
            "ann\0",
            "\0\0\0",
            "an n",
            "ann\u{7f}",
            "émile",
            "a-b",
        ] {
            let (request, mut payload) = TestRequest::default()
                .param("username", raw.to_owned())
                .to_http_parts();
            let refused = PathUsername::from_request(&request, &mut payload).await;
            assert_eq!(refused.unwrap_err().code, ErrorCode::NotFound, "{raw:?}");
        }
    }

    #[actix_web::test]
    async fn a_malformed_path_id_is_not_found() {
        assert_eq!(
            extract::<PhotoId>("abc").await.unwrap_err().code,
            ErrorCode::NotFound
        );
        assert_eq!(
            extract::<CommentId>("+7").await.unwrap_err().code,
            ErrorCode::NotFound
        );
        assert_eq!(extract::<PhotoId>("42").await.unwrap(), PathId(PhotoId(42)));
        assert_eq!(
            extract::<CommentId>("18446744073709551615").await.unwrap(),
            PathId(CommentId(u64::MAX))
        );
    }
}
