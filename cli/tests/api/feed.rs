//! `GET /v1/feed` through the whole product: a followed account's new photo reaches the feed
//! (fan-out through the event bus), hydrated like every photo; the reader's own photos are in
//! it; a private account's photos appear only after approval; deleting and unfollowing take
//! photos out on the next read; pages walk the feed to its end; bad parameters are 400 and no
//! token is 401. Embedded, and on PostgreSQL + Kafka + Redis.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;
use crate::on_both_backends;
use crate::photos::{post_photo, settled};

on_both_backends!(the_home_feed);

async fn feed(app: &TestApp, token: &str, query: &str) -> Value {
    let response = app.get(&format!("/v1/feed{query}"), token).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|photo| photo["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Reads the first page until `done` holds (fan-out runs behind the event bus).
async fn feed_until(app: &TestApp, token: &str, done: impl Fn(&[String]) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let page = feed(app, token, "?limit=50").await;
        if done(&ids(&page)) {
            return page;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the feed never got there: {page}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn ready_photo(app: &TestApp, token: &str, caption: &str) -> String {
    let photo = post_photo(
        app,
        token,
        "orientation_6_portrait.jpg",
        "image/jpeg",
        caption,
    )
    .await;
    let id = photo["id"].as_str().unwrap().to_owned();
    assert_eq!(settled(app, token, &id).await["status"], "ready");
    id
}

async fn the_home_feed(backend: Backend) {
    let app = spawn_app(backend).await;
    let (ann, bob, cat) = (
        app.signup("ann").await,
        app.signup("bob").await,
        app.signup("cat").await,
    );
    let (ann, bob, cat) = (token(&ann), token(&bob), token(&cat));
    assert!(
        ids(&feed(&app, ann, "").await).is_empty(),
        "a new feed is empty"
    );

    // Bob's photo is in his own feed once it is published.
    let bob_photo = ready_photo(&app, bob, "bob at sea").await;
    feed_until(&app, bob, |ids| ids.contains(&bob_photo)).await;
    // Following bob shows it on ann's very next read, hydrated.
    let response = app
        .post_authed("/v1/users/bob/follow", ann, &serde_json::json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = feed(&app, ann, "").await;
    assert_eq!(
        ids(&page),
        vec![bob_photo.clone()],
        "the next read shows it"
    );
    let photo = &page["items"][0];
    assert_eq!(photo["author"]["username"], "bob");
    assert_eq!(photo["status"], "ready");
    assert_eq!(photo["caption"], "bob at sea");
    assert_eq!(photo["variants"].as_array().unwrap().len(), 3);
    assert_eq!(photo["liked_by_me"], false);
    assert_eq!(
        app.put(&format!("/v1/photos/{bob_photo}/like"), ann)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let page = feed(&app, ann, "").await;
    assert_eq!(page["items"][0]["liked_by_me"], true);
    assert_eq!(page["items"][0]["like_count"], 1);

    // A new photo of someone ann follows reaches her feed (fan-out behind the event bus).
    let later = ready_photo(&app, bob, "bob again").await;
    feed_until(&app, ann, |ids| ids.first() == Some(&later)).await;
    assert_eq!(
        app.delete(&format!("/v1/photos/{later}"), bob)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );

    // Ann's own photo is in her feed, newest first.
    let own = ready_photo(&app, ann, "mine").await;
    let page = feed_until(&app, ann, |ids| ids.first() == Some(&own)).await;
    assert_eq!(ids(&page), vec![own.clone(), bob_photo.clone()]);

    // cat is private: ann's request shows nothing until cat approves.
    let response = app
        .patch("/v1/me", cat, &serde_json::json!({"is_private": true}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let cat_photo = ready_photo(&app, cat, "private").await;
    feed_until(&app, cat, |ids| ids.contains(&cat_photo)).await;
    let response = app
        .post_authed("/v1/users/cat/follow", ann, &serde_json::json!({}))
        .await;
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["state"], "requested");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!ids(&feed(&app, ann, "?limit=50").await).contains(&cat_photo));
    let response = app
        .post_authed(
            "/v1/me/follow-requests/ann/approve",
            cat,
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        ids(&feed(&app, ann, "").await)[0],
        cat_photo,
        "approval shows it on the next read"
    );

    // Pages of one walk the whole feed, each photo once, then stop.
    let mut walked = Vec::new();
    let mut query = "?limit=1".to_owned();
    loop {
        let page = feed(&app, ann, &query).await;
        walked.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=1&cursor={cursor}"),
            None => break,
        }
        assert!(walked.len() <= 3, "the pages do not end");
    }
    assert_eq!(
        walked,
        vec![cat_photo.clone(), own.clone(), bob_photo.clone()]
    );

    // A deleted photo and an unfollowed account leave on the next read.
    assert_eq!(
        app.delete(&format!("/v1/photos/{cat_photo}"), cat)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert!(!ids(&feed(&app, ann, "").await).contains(&cat_photo));
    assert_eq!(
        app.delete("/v1/users/bob/follow", ann).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(ids(&feed(&app, ann, "").await), vec![own]);

    // Bad input is 400, no token 401.
    for query in [
        "?limit=0",
        "?limit=51",
        "?limit=x",
        "?cursor=abc",
        "?cursor=-5",
    ] {
        let response = app.get(&format!("/v1/feed{query}"), ann).await;
        assert_problem(response, 400, "validation_failed").await;
    }
    let response = app.client.get(app.url("/v1/feed")).send().await.unwrap();
    assert_problem(response, 401, "unauthorized").await;
}
