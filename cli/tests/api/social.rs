//! Follows, private accounts, likes and comments through the REST API: the authorization matrix
//! (owner / approved follower / pending requester / stranger / anonymous) over every route that
//! reads or writes a private account's data, counters, paging, and the cost of a page in calls.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::on_both_backends;
use crate::photos::{post_photo, settled};

on_both_backends!(
    following_a_public_account,
    private_accounts_show_only_to_approved_followers,
    likes_and_comments,
    lists_page_without_gaps_or_duplicates,
);

async fn status(response: reqwest::Response) -> u16 {
    response.status().as_u16()
}

async fn following_a_public_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let (ann_token, bob_token) = (token(&ann), token(&bob));

    for _ in 0..2 {
        let answer: Value = app
            .post_authed("/v1/users/bob/follow", ann_token, &json!({}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            answer,
            json!({"state": "following"}),
            "following is idempotent"
        );
    }
    let profile: Value = app
        .get("/v1/users/bob", ann_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["followers_count"], 1);
    assert_eq!(
        profile["relationship"],
        json!({"following": true, "followed_by": false, "requested": false})
    );
    let seen_by_bob: Value = app
        .get("/v1/users/ann", bob_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen_by_bob["relationship"]["followed_by"], true);
    let me: Value = app.get("/v1/me", ann_token).await.json().await.unwrap();
    assert_eq!(me["following_count"], 1);

    let followers: Value = app
        .get("/v1/users/bob/followers", ann_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(followers["items"][0]["username"], "ann");
    assert_eq!(followers["next_cursor"], Value::Null);
    let following: Value = app
        .get("/v1/users/ann/following", bob_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(following["items"][0]["username"], "bob");

    assert_problem(
        app.post_authed("/v1/users/ann/follow", ann_token, &json!({}))
            .await,
        422,
        "cannot_follow_self",
    )
    .await;
    assert_problem(
        app.post_authed("/v1/users/nobody/follow", ann_token, &json!({}))
            .await,
        404,
        "not_found",
    )
    .await;

    assert_eq!(
        app.delete("/v1/users/bob/follow", ann_token).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete("/v1/users/bob/follow", ann_token).await.status(),
        StatusCode::NO_CONTENT
    );
    let profile: Value = app
        .get("/v1/users/bob", ann_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["followers_count"], 0);
    assert_eq!(profile["relationship"]["following"], false);
}

async fn private_accounts_show_only_to_approved_followers(backend: Backend) {
    let app = spawn_app(backend).await;
    let carol = app.signup("carol").await;
    let dave = app.signup("dave").await;
    let erin = app.signup("erin").await;
    let frank = app.signup("frank").await;
    let owner = token(&carol).to_owned();
    let photo = post_photo(
        &app,
        &owner,
        "skimage_rocket.jpg",
        "image/jpeg",
        "private rocket",
    )
    .await;
    let id = photo["id"].as_str().unwrap().to_owned();
    assert_eq!(settled(&app, &owner, &id).await["status"], "ready");
    app.patch("/v1/me", &owner, &json!({"is_private": true}))
        .await;

    // dave asks and is approved; erin asks and waits; frank never asks.
    let asked: Value = app
        .post_authed("/v1/users/carol/follow", token(&dave), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(asked["state"], "requested");
    let asked: Value = app
        .post_authed("/v1/users/carol/follow", token(&erin), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(asked["state"], "requested");
    let requests: Value = app
        .get("/v1/me/follow-requests", &owner)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = requests["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["erin", "dave"], "newest first");
    let approve = app
        .post_authed("/v1/me/follow-requests/dave/approve", &owner, &json!({}))
        .await;
    assert_eq!(approve.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.post_authed("/v1/me/follow-requests/frank/approve", &owner, &json!({}))
            .await,
        404,
        "not_found",
    )
    .await;
    let erin_view: Value = app
        .get("/v1/users/carol", token(&erin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(erin_view["relationship"]["requested"], true);

    let viewers = [
        ("owner", Some(owner.clone())),
        ("approved follower", Some(token(&dave).to_owned())),
        ("pending requester", Some(token(&erin).to_owned())),
        ("stranger", Some(token(&frank).to_owned())),
        ("anonymous", None),
    ];
    // Expected status per viewer, in the order above.
    let reads: [(&str, [u16; 5]); 6] = [
        ("/v1/photos/{id}", [200, 200, 404, 404, 401]),
        ("/v1/users/carol/photos", [200, 200, 403, 403, 401]),
        ("/v1/users/carol/followers", [200, 200, 403, 403, 401]),
        ("/v1/users/carol/following", [200, 200, 403, 403, 401]),
        ("/v1/photos/{id}/likes", [200, 200, 404, 404, 401]),
        ("/v1/photos/{id}/comments", [200, 200, 404, 404, 401]),
    ];
    for (template, expected) in reads {
        let path = template.replace("{id}", &id);
        for ((who, token), want) in viewers.iter().zip(expected) {
            let mut request = app.client.get(app.url(&path));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status().as_u16(), want, "GET {path} as {who}");
            if want == 403 {
                assert_problem(response, 403, "private_account").await;
            }
        }
    }
    // Writes: strangers cannot even learn the photo exists; the follower sees it but may not edit.
    let photo_path = format!("/v1/photos/{id}");
    let like_path = format!("{photo_path}/like");
    let comments_path = format!("{photo_path}/comments");
    for (who, token, can_see) in [
        ("pending requester", token(&erin), false),
        ("stranger", token(&frank), false),
        ("approved follower", token(&dave), true),
    ] {
        let (see, edit) = if can_see { (204, 403) } else { (404, 404) };
        assert_eq!(
            status(app.put(&like_path, token).await).await,
            see,
            "like as {who}"
        );
        assert_eq!(
            status(app.delete(&like_path, token).await).await,
            see,
            "unlike as {who}"
        );
        let comment = app
            .post_authed(&comments_path, token, &json!({"text": "nice"}))
            .await;
        assert_eq!(
            comment.status().as_u16(),
            if can_see { 201 } else { 404 },
            "comment as {who}"
        );
        assert_eq!(
            status(
                app.patch(&photo_path, token, &json!({"caption": "x"}))
                    .await
            )
            .await,
            edit,
            "edit as {who}"
        );
        assert_eq!(
            status(app.delete(&photo_path, token).await).await,
            edit,
            "delete as {who}"
        );
    }
    let anonymous_like = app.client.put(app.url(&like_path)).send().await.unwrap();
    assert_problem(anonymous_like, 401, "unauthorized").await;

    // Denying a request and withdrawing one.
    assert_eq!(
        app.post_authed("/v1/me/follow-requests/erin/deny", &owner, &json!({}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let erin_view: Value = app
        .get("/v1/users/carol", token(&erin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(erin_view["relationship"]["requested"], false);
    app.post_authed("/v1/users/carol/follow", token(&frank), &json!({}))
        .await;
    assert_eq!(
        app.delete("/v1/users/carol/follow", token(&frank))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let requests: Value = app
        .get("/v1/me/follow-requests", &owner)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        requests["items"].as_array().unwrap().is_empty(),
        "{requests}"
    );
    // The approved follower loses access on unfollowing.
    app.delete("/v1/users/carol/follow", token(&dave)).await;
    assert_eq!(status(app.get(&photo_path, token(&dave)).await).await, 404);
}

async fn likes_and_comments(backend: Backend) {
    let app = spawn_app(backend).await;
    let gina = app.signup("gina").await;
    let hank = app.signup("hank").await;
    let ivy = app.signup("ivy").await;
    let (owner, fan, other) = (token(&gina), token(&hank), token(&ivy));
    let photo = post_photo(&app, owner, "skimage_rocket.jpg", "image/jpeg", "").await;
    let id = photo["id"].as_str().unwrap().to_owned();
    settled(&app, owner, &id).await;
    let like_path = format!("/v1/photos/{id}/like");
    for _ in 0..2 {
        assert_eq!(
            app.put(&like_path, fan).await.status(),
            StatusCode::NO_CONTENT
        );
    }
    let seen: Value = app
        .get(&format!("/v1/photos/{id}"), fan)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (seen["like_count"].as_u64(), seen["liked_by_me"].as_bool()),
        (Some(1), Some(true)),
        "one like per person"
    );
    let seen: Value = app
        .get(&format!("/v1/photos/{id}"), other)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["liked_by_me"], false);
    let likers: Value = app
        .get(&format!("/v1/photos/{id}/likes"), other)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(likers["items"][0]["username"], "hank");

    let comments_path = format!("/v1/photos/{id}/comments");
    let first: Value = app
        .post_authed(&comments_path, fan, &json!({"text": "first!"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["author"]["username"], "hank");
    assert_eq!(first["photo_id"], json!(id));
    let second: Value = app
        .post_authed(&comments_path, other, &json!({"text": "second"}))
        .await
        .json()
        .await
        .unwrap();
    let third: Value = app
        .post_authed(&comments_path, other, &json!({"text": "third"}))
        .await
        .json()
        .await
        .unwrap();
    for bad in [
        json!({"text": ""}),
        json!({"text": "x".repeat(2201)}),
        json!({"text": "hi", "x": 1}),
        json!({}),
    ] {
        assert_problem(
            app.post_authed(&comments_path, fan, &bad).await,
            400,
            "validation_failed",
        )
        .await;
    }
    let listed: Value = app.get(&comments_path, owner).await.json().await.unwrap();
    let texts: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["first!", "second", "third"], "oldest first");
    let seen: Value = app
        .get(&format!("/v1/photos/{id}"), owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["comment_count"], 3);

    let path = |comment: &Value| format!("/v1/comments/{}", comment["id"].as_str().unwrap());
    assert_problem(app.delete(&path(&first), other).await, 403, "forbidden").await;
    assert_eq!(
        app.delete(&path(&first), fan).await.status(),
        StatusCode::NO_CONTENT,
        "its author may"
    );
    assert_eq!(
        app.delete(&path(&second), owner).await.status(),
        StatusCode::NO_CONTENT,
        "the photo's owner may"
    );
    assert_problem(app.delete(&path(&second), owner).await, 404, "not_found").await;
    let seen: Value = app
        .get(&format!("/v1/photos/{id}"), owner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["comment_count"], 1);
    let _ = third;

    assert_eq!(
        app.delete(&like_path, fan).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&like_path, fan).await.status(),
        StatusCode::NO_CONTENT
    );
    let seen: Value = app
        .get(&format!("/v1/photos/{id}"), fan)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (seen["like_count"].as_u64(), seen["liked_by_me"].as_bool()),
        (Some(0), Some(false))
    );
    assert_problem(
        app.put("/v1/photos/123456/like", fan).await,
        404,
        "not_found",
    )
    .await;
}

async fn lists_page_without_gaps_or_duplicates(backend: Backend) {
    let app = spawn_app(backend).await;
    let star = app.signup("star").await;
    let photo = post_photo(&app, token(&star), "skimage_rocket.jpg", "image/jpeg", "").await;
    let id = photo["id"].as_str().unwrap().to_owned();
    settled(&app, token(&star), &id).await;
    let mut fans = Vec::new();
    for n in 0..27 {
        let fan = app.signup(&format!("fan{n:02}")).await;
        app.post_authed("/v1/users/star/follow", token(&fan), &json!({}))
            .await;
        app.post_authed(
            &format!("/v1/photos/{id}/comments"),
            token(&fan),
            &json!({"text": format!("comment {n:02}")}),
        )
        .await;
        fans.push(fan);
    }
    let read_all = |path: String, field: &'static str| {
        let app = &app;
        let viewer = token(&star).to_owned();
        async move {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let url = match &cursor {
                    Some(cursor) => format!("{path}?limit=7&cursor={cursor}"),
                    None => format!("{path}?limit=7"),
                };
                let page: Value = app.get(&url, &viewer).await.json().await.unwrap();
                let items = page["items"].as_array().unwrap();
                assert!(items.len() <= 7);
                seen.extend(
                    items
                        .iter()
                        .map(|item| item[field].as_str().unwrap().to_owned()),
                );
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = Some(next.to_owned()),
                    None => return seen,
                }
            }
        }
    };
    let followers = read_all("/v1/users/star/followers".to_owned(), "username").await;
    let mut expected: Vec<String> = (0..27).rev().map(|n| format!("fan{n:02}")).collect();
    assert_eq!(followers, expected, "newest first, each once");
    let comments = read_all(format!("/v1/photos/{id}/comments"), "text").await;
    expected = (0..27).map(|n| format!("comment {n:02}")).collect();
    assert_eq!(comments, expected, "oldest first, each once");
    let profile: Value = app
        .get("/v1/users/star", token(&star))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["followers_count"], 27);
    assert_eq!(profile["photos_count"], 1);
    let fan_view: Value = app
        .get("/v1/me", token(&fans[0]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            fan_view["following_count"].as_u64(),
            fan_view["photos_count"].as_u64()
        ),
        (Some(1), Some(0))
    );
}

/// A page of photos costs the same number of gRPC calls whether it holds 2 photos or 20: one per
/// service (users, graph only when a private author is on it, engagement), counted by the
/// services' own request metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_photos_costs_a_constant_number_of_calls() {
    let app = spawn_app(Backend::Sqlite).await;
    let owner = app.signup("lens").await;
    let viewer = app.signup("viewer").await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        let photo = post_photo(&app, token(&owner), "tiny_1x1.png", "image/png", "").await;
        ids.push(photo["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        settled(&app, token(&owner), id).await;
    }
    app.patch("/v1/me", token(&owner), &json!({"is_private": true}))
        .await;
    app.post_authed("/v1/users/lens/follow", token(&viewer), &json!({}))
        .await;
    app.post_authed(
        "/v1/me/follow-requests/viewer/approve",
        token(&owner),
        &json!({}),
    )
    .await;

    let methods = [
        ("users", "/photoshare.users.v1.Users/BatchGetUsers"),
        ("users", "/photoshare.users.v1.Users/GetUser"),
        ("graph", "/photoshare.graph.v1.Graph/BatchRelationships"),
        (
            "engagement",
            "/photoshare.engagement.v1.Engagement/BatchPhotoStats",
        ),
        ("media", "/photoshare.media.v1.Media/ListPhotos"),
    ];
    let mut costs = Vec::new();
    for limit in [2, 20] {
        let mut before = Vec::new();
        for (service, method) in methods {
            before.push(app.grpc_calls(service, method).await);
        }
        let page: Value = app
            .get(
                &format!("/v1/users/lens/photos?limit={limit}"),
                token(&viewer),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["items"].as_array().unwrap().len(), limit);
        let mut cost = Vec::new();
        for ((service, method), before) in methods.iter().zip(before) {
            cost.push((*method, app.grpc_calls(service, method).await - before));
        }
        costs.push(cost);
    }
    assert_eq!(
        costs[0], costs[1],
        "2 photos and 20 photos cost the same calls"
    );
    assert!(
        costs[1].iter().all(|(_, calls)| *calls <= 2),
        "{:?}",
        costs[1]
    );
}
