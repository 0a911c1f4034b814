//! Ids in paths (`/v1/photos/{id}`), parsed once at the edge into their typed id.

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
