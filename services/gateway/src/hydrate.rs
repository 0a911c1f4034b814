//! Turns the services' answers into API shapes: photos with their authors and counts, and pages
//! of photos, people and comments. Every route that answers with these goes through here, and a
//! response costs a constant number of calls whatever its size: one `BatchGetUsers` (authors),
//! at most one `BatchRelationships` (only when a private author is on the page: the visibility
//! rule), and one `BatchPhotoStats` (likes, comments, liked by me).

use std::collections::{BTreeSet, HashMap};

use photoshare_ids::UserId;
use photoshare_proto::common::v1::PageInfo;
use photoshare_proto::engagement::v1::{self as engagement, BatchPhotoStatsRequest};
use photoshare_proto::media::v1 as pb;
use photoshare_proto::users::v1::User;

use crate::clients::users_by_ids;
use crate::models::{next_cursor, Comment, CommentPage, Photo, PhotoPage, UserPage, UserSummary};
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
    viewer: UserId,
    photos: Vec<pb::Photo>,
) -> Result<Vec<Photo>, ApiError> {
    let authors = users_by_ids(&state.users, distinct(photos.iter().map(|p| p.author_id))).await?;
    let visible_authors = visibility::visible_authors(state, viewer, authors).await?;
    let mut hydrated = assemble(photos, &visible_authors);
    add_engagement(state, viewer, &mut hydrated).await?;
    Ok(hydrated)
}

/// One photo with its author; 404 if the author is gone, as for a photo that is gone.
pub async fn photo(state: &AppState, viewer: UserId, photo: pb::Photo) -> Result<Photo, ApiError> {
    photos(state, viewer, vec![photo])
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("no such photo"))
}

/// A page of photos, hydrated as [`photos`] does.
pub async fn photo_page(
    state: &AppState,
    viewer: UserId,
    listed: Vec<pb::Photo>,
    page: Option<PageInfo>,
) -> Result<PhotoPage, ApiError> {
    Ok(PhotoPage {
        items: photos(state, viewer, listed).await?,
        next_cursor: next_cursor(page),
    })
}

/// The people with these ids, in this order, in one users call. Unknown ids are left out.
pub async fn summaries(state: &AppState, ids: Vec<u64>) -> Result<Vec<UserSummary>, ApiError> {
    let by_id = summaries_by_id(&users_by_ids(&state.users, ids.clone()).await?);
    Ok(ids
        .into_iter()
        .filter_map(|id| by_id.get(&id).cloned())
        .collect())
}

/// A page of people (followers, following, requests, likes) from their ids.
pub async fn user_page(
    state: &AppState,
    ids: Vec<u64>,
    page: Option<PageInfo>,
) -> Result<UserPage, ApiError> {
    Ok(UserPage {
        items: summaries(state, ids).await?,
        next_cursor: next_cursor(page),
    })
}

/// A page of comments with their authors; a comment whose author is gone is left out.
pub async fn comment_page(
    state: &AppState,
    comments: Vec<engagement::Comment>,
    page: Option<PageInfo>,
) -> Result<CommentPage, ApiError> {
    let author_ids = distinct(comments.iter().map(|comment| comment.author_id));
    let authors = summaries_by_id(&users_by_ids(&state.users, author_ids).await?);
    let items = comments
        .into_iter()
        .filter_map(|comment| {
            let author = authors.get(&comment.author_id)?.clone();
            Some(Comment::from_proto(comment, author))
        })
        .collect();
    Ok(CommentPage {
        items,
        next_cursor: next_cursor(page),
    })
}

/// Fills `like_count`, `comment_count` and `liked_by_me` in one engagement call.
async fn add_engagement(
    state: &AppState,
    viewer: UserId,
    photos: &mut [Photo],
) -> Result<(), ApiError> {
    let photo_ids: Vec<u64> = photos.iter().map(|photo| photo.id.get()).collect();
    if photo_ids.is_empty() {
        return Ok(());
    }
    let stats = state
        .engagement
        .clone()
        .batch_photo_stats(BatchPhotoStatsRequest {
            viewer_id: viewer.get(),
            photo_ids,
        })
        .await?
        .into_inner()
        .stats;
    let by_photo: HashMap<u64, _> = stats.into_iter().map(|s| (s.photo_id, s)).collect();
    for photo in photos {
        if let Some(stats) = by_photo.get(&photo.id.get()) {
            photo.like_count = stats.like_count;
            photo.comment_count = stats.comment_count;
            photo.liked_by_me = stats.liked_by_me;
        }
    }
    Ok(())
}

/// The distinct ids, so a page of one author's photos asks for one user.
fn distinct(ids: impl Iterator<Item = u64>) -> Vec<u64> {
    ids.collect::<BTreeSet<_>>().into_iter().collect()
}

fn summaries_by_id(users: &[User]) -> HashMap<u64, UserSummary> {
    users
        .iter()
        .map(|user| (user.id, UserSummary::from_user(user)))
        .collect()
}

fn assemble(photos: Vec<pb::Photo>, authors: &[User]) -> Vec<Photo> {
    let authors = summaries_by_id(authors);
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
        assert_eq!(distinct(page.iter().map(|p| p.author_id)), vec![7, 9]);
        assert!(distinct(std::iter::empty()).is_empty());
    }

    #[test]
    fn photos_keep_their_order_and_get_their_authors() {
        let page = vec![photo(3, 9), photo(2, 7), photo(1, 9)];
        let hydrated = assemble(page, &[user(7, "ann"), user(9, "bob")]);
        let ids: Vec<String> = hydrated.iter().map(|p| p.id.to_string()).collect();
        assert_eq!(ids, ["3", "2", "1"]);
        let authors: Vec<&str> = hydrated
            .iter()
            .map(|p| p.author.username.as_str())
            .collect();
        assert_eq!(authors, ["bob", "ann", "bob"]);
        assert_eq!(hydrated[1].author.display_name, "ANN");
        assert_eq!(hydrated[1].author.id.to_string(), "7");
    }

    #[test]
    fn photos_of_unknown_authors_are_left_out() {
        let page = vec![photo(3, 9), photo(2, 7), photo(1, 9)];
        let hydrated = assemble(page, &[user(9, "bob")]);
        let ids: Vec<String> = hydrated.iter().map(|p| p.id.to_string()).collect();
        assert_eq!(ids, ["3", "1"]);
    }
}
