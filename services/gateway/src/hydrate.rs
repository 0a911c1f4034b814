//! Turns the media service's photos into API [`Photo`]s. Every route that answers with photos
//! goes through here, and a response costs a constant number of calls whatever its size: one
//! `BatchGetUsers` (authors), at most one `BatchRelationships` (only when a private author is on
//! the page: the visibility rule), and one `BatchPhotoStats` (likes, comments, liked by me).

use std::collections::{BTreeSet, HashMap};

use photoshare_proto::engagement::v1::BatchPhotoStatsRequest;
use photoshare_proto::media::v1 as pb;
use photoshare_proto::users::v1::{BatchGetUsersRequest, User};

use crate::models::{Photo, UserSummary};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::visibility;

/// The photos, in their order, with their authors. A photo whose author the users service no
/// longer knows (the account was deleted and its photos not yet) is left out: the app cannot
/// show a photo without an author.
///
/// Photos of private accounts the viewer does not follow are left out (see `visibility`).
pub async fn photos(
    state: &AppState,
    viewer: u64,
    photos: Vec<pb::Photo>,
) -> Result<Vec<Photo>, ApiError> {
    let ids = author_ids(&photos);
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let authors = state
        .users
        .clone()
        .batch_get_users(BatchGetUsersRequest {
            ids,
            usernames: Vec::new(),
        })
        .await?
        .into_inner()
        .users;
    let visible_authors = visibility::visible_authors(state, viewer, authors).await?;
    let mut hydrated = assemble(photos, &visible_authors);
    add_engagement(state, viewer, &mut hydrated).await?;
    Ok(hydrated)
}

/// Fills `like_count`, `comment_count` and `liked_by_me` in one engagement call.
async fn add_engagement(
    state: &AppState,
    viewer: u64,
    photos: &mut [Photo],
) -> Result<(), ApiError> {
    let photo_ids: Vec<u64> = photos
        .iter()
        .filter_map(|photo| photo.id.parse().ok())
        .collect();
    if photo_ids.is_empty() {
        return Ok(());
    }
    let stats = state
        .engagement
        .clone()
        .batch_photo_stats(BatchPhotoStatsRequest {
            viewer_id: viewer,
            photo_ids,
        })
        .await?
        .into_inner()
        .stats;
    let by_photo: HashMap<String, _> = stats
        .into_iter()
        .map(|s| (s.photo_id.to_string(), s))
        .collect();
    for photo in photos {
        if let Some(stats) = by_photo.get(&photo.id) {
            photo.like_count = stats.like_count;
            photo.comment_count = stats.comment_count;
            photo.liked_by_me = stats.liked_by_me;
        }
    }
    Ok(())
}

/// One photo with its author; 404 if the author is gone, as for a photo that is gone.
pub async fn photo(state: &AppState, viewer: u64, photo: pb::Photo) -> Result<Photo, ApiError> {
    photos(state, viewer, vec![photo])
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("no such photo"))
}

/// The distinct author ids, so a page of one author's photos asks for one user.
fn author_ids(photos: &[pb::Photo]) -> Vec<u64> {
    photos
        .iter()
        .map(|photo| photo.author_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn assemble(photos: Vec<pb::Photo>, authors: &[User]) -> Vec<Photo> {
    let authors: HashMap<u64, UserSummary> = authors
        .iter()
        .map(|user| (user.id, UserSummary::from_user(user)))
        .collect();
    photos
        .into_iter()
        .filter_map(|photo| match authors.get(&photo.author_id) {
            Some(author) => Some(Photo::from_proto(photo, author.clone())),
            None => {
                tracing::info!(
                    photo_id = photo.id,
                    author_id = photo.author_id,
                    "photo left out: its author is unknown"
                );
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo(id: u64, author_id: u64) -> pb::Photo {
        pb::Photo {
            id,
            author_id,
            status: "ready".to_owned(),
            ..Default::default()
        }
    }

    fn user(id: u64, username: &str) -> User {
        User {
            id,
            username: username.to_owned(),
            display_name: username.to_uppercase(),
            ..Default::default()
        }
    }

    #[test]
    fn each_author_is_asked_for_once() {
        let page = [photo(1, 7), photo(2, 9), photo(3, 7), photo(4, 7)];
        assert_eq!(author_ids(&page), vec![7, 9]);
        assert!(author_ids(&[]).is_empty());
    }

    #[test]
    fn photos_keep_their_order_and_get_their_authors() {
        let page = vec![photo(3, 9), photo(2, 7), photo(1, 9)];
        let hydrated = assemble(page, &[user(7, "ann"), user(9, "bob")]);
        let ids: Vec<&str> = hydrated.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["3", "2", "1"]);
        let authors: Vec<&str> = hydrated
            .iter()
            .map(|p| p.author.username.as_str())
            .collect();
        assert_eq!(authors, ["bob", "ann", "bob"]);
        assert_eq!(hydrated[1].author.display_name, "ANN");
        assert_eq!(hydrated[1].author.id, "7");
    }

    #[test]
    fn photos_of_unknown_authors_are_left_out() {
        let page = vec![photo(3, 9), photo(2, 7), photo(1, 9)];
        let hydrated = assemble(page, &[user(9, "bob")]);
        let ids: Vec<&str> = hydrated.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["3", "1"]);
    }
}
