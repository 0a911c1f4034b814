//! The one visibility rule, which every read path calls: a private account's photos, photo list,
//! followers and following are visible only to the account itself and its approved followers.
//! Strangers get 404 for a photo (its existence does not leak) and 403 `private_account` for the
//! lists. Relationships come from the graph service in one batch call per response.

use std::collections::HashMap;

use photoshare_ids::{PhotoId, UserId};
use photoshare_proto::graph::v1::{BatchRelationshipsRequest, Relationship};
use photoshare_proto::media::v1 as media;
use photoshare_proto::users::v1::User;
use photoshare_proto::ErrorCode;

use crate::clients::users_by_ids;
use crate::problem::ApiError;
use crate::state::AppState;

/// The viewer's relationships to `user_ids` (with their counts), in one graph call.
pub async fn relationships(
    state: &AppState,
    viewer: UserId,
    user_ids: Vec<u64>,
) -> Result<HashMap<u64, Relationship>, ApiError> {
    if user_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let answer = state
        .graph
        .clone()
        .batch_relationships(BatchRelationshipsRequest {
            viewer_id: viewer.get(),
            user_ids,
        })
        .await?
        .into_inner();
    Ok(answer
        .relationships
        .into_iter()
        .map(|relationship| (relationship.user_id, relationship))
        .collect())
}

/// May `viewer` see what `owner` shares? `relationship` is the viewer's to the owner.
pub fn may_see(viewer: UserId, owner: &User, relationship: Option<&Relationship>) -> bool {
    !owner.is_private || owner.id == viewer.get() || relationship.is_some_and(|r| r.following)
}

/// For list routes: `Ok` with the relationship when the viewer may see `owner`'s lists, else
/// 403 `private_account`.
pub async fn require_list_access(
    state: &AppState,
    viewer: UserId,
    owner: &User,
) -> Result<Option<Relationship>, ApiError> {
    let relationship = relationships(state, viewer, vec![owner.id])
        .await?
        .remove(&owner.id);
    if may_see(viewer, owner, relationship.as_ref()) {
        Ok(relationship)
    } else {
        Err(ApiError::new(
            ErrorCode::PrivateAccount,
            format!(
                "@{} is private: follow them and wait for approval",
                owner.username
            ),
        ))
    }
}

/// The photo if the caller may see it; otherwise 404, exactly as for a photo that does not exist.
pub async fn visible_photo(
    state: &AppState,
    viewer: UserId,
    photo_id: PhotoId,
) -> Result<media::Photo, ApiError> {
    let photo = state
        .media
        .clone()
        .get_photo(media::GetPhotoRequest {
            viewer_id: viewer.get(),
            photo_id: photo_id.get(),
        })
        .await?
        .into_inner();
    let authors = users_by_ids(&state.users, vec![photo.author_id]).await?;
    if visible_authors(state, viewer, authors).await?.is_empty() {
        return Err(ApiError::not_found("no such photo"));
    }
    Ok(photo)
}

/// The authors whose photos `viewer` may see. Asks the graph service (one call) only about
/// private authors other than the viewer; public ones need no question.
pub async fn visible_authors(
    state: &AppState,
    viewer: UserId,
    authors: Vec<User>,
) -> Result<Vec<User>, ApiError> {
    let private_others: Vec<u64> = authors
        .iter()
        .filter(|author| author.is_private && author.id != viewer.get())
        .map(|author| author.id)
        .collect();
    let relationships = relationships(state, viewer, private_others).await?;
    Ok(authors
        .into_iter()
        .filter(|author| may_see(viewer, author, relationships.get(&author.id)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: u64, is_private: bool) -> User {
        User {
            id,
            is_private,
            ..Default::default()
        }
    }

    fn following(yes: bool) -> Relationship {
        Relationship {
            following: yes,
            requested: !yes,
            ..Default::default()
        }
    }

    #[test]
    fn public_accounts_are_seen_by_everyone() {
        assert!(may_see(UserId(1), &user(2, false), None));
    }

    #[test]
    fn private_accounts_are_seen_by_themselves_and_approved_followers_only() {
        let owner = user(2, true);
        assert!(may_see(UserId(2), &owner, None));
        assert!(may_see(UserId(1), &owner, Some(&following(true))));
        assert!(
            !may_see(UserId(1), &owner, Some(&following(false))),
            "a pending request is not enough"
        );
        assert!(!may_see(UserId(1), &owner, None));
    }
}
