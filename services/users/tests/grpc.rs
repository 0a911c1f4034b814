//! The users service over real gRPC, on SQLite and PostgreSQL: the calls the REST API does not
//! expose yet (batch lookups, by-id reads, revocations) and the error codes they carry, and
//! what a direct gRPC caller could try that the gateway would have stopped.

use photoshare_proto::users::v1::users_client::UsersClient;
use photoshare_proto::users::v1::{self as pb, get_user_request::Key};
use photoshare_proto::ErrorCode;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

struct Running {
    client: UsersClient<Channel>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), photoshare_runtime::RuntimeError>>,
    _data_dir: tempfile::TempDir,
}

async fn start(postgres: bool) -> Running {
    let (config, data_dir) = photoshare_test_support::service_config(postgres).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(photoshare_runtime::serve(
        &photoshare_users::SPEC,
        listener,
        config,
        photoshare_runtime::SharedBackends::default(),
        shutdown.clone(),
    ));
    let channel = loop {
        if let Ok(channel) = Channel::from_shared(url.clone()).unwrap().connect().await {
            break channel;
        }
        assert!(
            !task.is_finished(),
            "the users service stopped during start-up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    Running {
        client: UsersClient::new(channel),
        shutdown,
        task,
        _data_dir: data_dir,
    }
}

async fn sign_up(client: &mut UsersClient<Channel>, username: &str) -> pb::User {
    client
        .sign_up(pb::SignUpRequest {
            username: username.to_owned(),
            email: format!("{username}@example.com"),
            password: "long enough password".to_owned(),
            display_name: None,
            idempotency_key: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap()
}

async fn batch_lookups_and_reads(postgres: bool) {
    let mut running = start(postgres).await;
    let client = &mut running.client;
    let ann = sign_up(client, "ann").await;
    let bob = sign_up(client, "bob").await;
    let _cat = sign_up(client, "cat").await;

    let by_id = client
        .get_user(pb::GetUserRequest {
            key: Some(Key::Id(bob.id)),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_id, bob);

    let batch = client
        .batch_get_users(pb::BatchGetUsersRequest {
            ids: vec![ann.id, 12345],
            usernames: vec!["BOB".into(), "nobody".into()],
        })
        .await
        .unwrap()
        .into_inner();
    let mut names: Vec<&str> = batch.users.iter().map(|u| u.username.as_str()).collect();
    names.sort();
    assert_eq!(names, ["ann", "bob"], "unknown ids and names are left out");

    let empty = client
        .batch_get_users(pb::BatchGetUsersRequest::default())
        .await
        .unwrap();
    assert!(empty.into_inner().users.is_empty());

    let too_many = client
        .batch_get_users(pb::BatchGetUsersRequest {
            ids: (0..=photoshare_users::service::MAX_BATCH as u64).collect(),
            usernames: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(
        ErrorCode::from_status(&too_many),
        ErrorCode::ValidationFailed
    );

    let missing = client
        .get_user(pb::GetUserRequest {
            key: Some(Key::Username("nobody".into())),
        })
        .await
        .unwrap_err();
    assert_eq!(ErrorCode::from_status(&missing), ErrorCode::NotFound);
    let keyless = client
        .get_user(pb::GetUserRequest { key: None })
        .await
        .unwrap_err();
    assert_eq!(
        ErrorCode::from_status(&keyless),
        ErrorCode::ValidationFailed
    );

    running.shutdown.cancel();
    running.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_lookups_and_reads_on_sqlite() {
    batch_lookups_and_reads(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_lookups_and_reads_on_postgres() {
    batch_lookups_and_reads(true).await;
}

/// A caller that is not the gateway sends NUL and other control characters: each is refused
/// (or names nobody) before the database sees it; PostgreSQL cannot store NUL and would fail.
async fn control_characters_never_reach_the_database(postgres: bool) {
    let mut running = start(postgres).await;
    let client = &mut running.client;
    let ann = sign_up(client, "ann").await;

    for login in ["ann\0", "\0", "ann@example.com\0", "a\u{1}nn"] {
        let refused = client
            .login(pb::LoginRequest {
                login: login.into(),
                password: "long enough password".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(
            ErrorCode::from_status(&refused),
            ErrorCode::Unauthorized,
            "{login:?}"
        );
    }
    let missing = client
        .get_user(pb::GetUserRequest {
            key: Some(Key::Username("an\0n".into())),
        })
        .await
        .unwrap_err();
    assert_eq!(ErrorCode::from_status(&missing), ErrorCode::NotFound);
    let batch = client
        .batch_get_users(pb::BatchGetUsersRequest {
            ids: vec![ann.id],
            usernames: vec!["\0".into(), "ann\0".into()],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(batch.users, std::slice::from_ref(&ann));

    let signup = |username: &str, email: &str, display_name: Option<&str>| pb::SignUpRequest {
        username: username.into(),
        email: email.into(),
        password: "long enough password".into(),
        display_name: display_name.map(str::to_owned),
        idempotency_key: String::new(),
    };
    for request in [
        signup("bo\0b", "bob@example.com", None),
        signup("bob", "bob\0@example.com", None),
        signup("bob", "bob@example.com", Some("Bob\0")),
    ] {
        let refused = client.sign_up(request).await.unwrap_err();
        assert_eq!(
            ErrorCode::from_status(&refused),
            ErrorCode::ValidationFailed
        );
    }
    let refused = client
        .update_profile(pb::UpdateProfileRequest {
            user_id: ann.id,
            bio: Some("nul\0".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        ErrorCode::from_status(&refused),
        ErrorCode::ValidationFailed
    );

    running.shutdown.cancel();
    running.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_never_reach_the_database_on_sqlite() {
    control_characters_never_reach_the_database(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_never_reach_the_database_on_postgres() {
    control_characters_never_reach_the_database(true).await;
}

fn keyed_signup(
    username: &str,
    key: &str,
    password: &str,
    display_name: Option<&str>,
) -> pb::SignUpRequest {
    pb::SignUpRequest {
        username: username.into(),
        email: format!("{username}@example.com"),
        password: password.into(),
        display_name: display_name.map(str::to_owned),
        idempotency_key: key.into(),
    }
}

/// A sign-up retried with its Idempotency-Key answers the same account with a fresh session;
/// the same key with another password or display name is refused; racing retries all end with
/// the one account.
async fn signup_retries_answer_the_same_account(postgres: bool) {
    let mut running = start(postgres).await;
    let client = &mut running.client;
    let first = client
        .sign_up(keyed_signup(
            "cleo",
            "key-1",
            "long enough password",
            Some("Cleo"),
        ))
        .await
        .unwrap()
        .into_inner();
    let again = client
        .sign_up(keyed_signup(
            "CLEO",
            "key-1",
            "long enough password",
            Some("Cleo"),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.user, first.user);
    assert_ne!(again.refresh_token, first.refresh_token, "a fresh session");
    for (case, request) in [
        (
            "another password",
            keyed_signup("cleo", "key-1", "another long password", Some("Cleo")),
        ),
        (
            "another display name",
            keyed_signup("cleo", "key-1", "long enough password", Some("C")),
        ),
        (
            "no display name",
            keyed_signup("cleo", "key-1", "long enough password", None),
        ),
    ] {
        let refused = client.sign_up(request).await.unwrap_err();
        assert_eq!(
            ErrorCode::from_status(&refused),
            ErrorCode::IdempotencyKeyReused,
            "{case}"
        );
    }
    // Without the key, or with another one, it is a second sign-up of a taken name.
    for key in ["", "key-2"] {
        let taken = client
            .sign_up(keyed_signup(
                "cleo",
                key,
                "long enough password",
                Some("Cleo"),
            ))
            .await
            .unwrap_err();
        assert_eq!(
            ErrorCode::from_status(&taken),
            ErrorCode::UsernameTaken,
            "{key:?}"
        );
    }

    let tries = (0..4).map(|_| {
        let mut client = client.clone();
        async move {
            client
                .sign_up(keyed_signup("dora", "race", "long enough password", None))
                .await
                .map(|session| session.into_inner().user.unwrap().id)
        }
    });
    let ids: Vec<u64> = futures::future::join_all(tries)
        .await
        .into_iter()
        .map(|outcome| outcome.expect("every racing retry answers the account"))
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");

    running.shutdown.cancel();
    running.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_retries_answer_the_same_account_on_sqlite() {
    signup_retries_answer_the_same_account(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_retries_answer_the_same_account_on_postgres() {
    signup_retries_answer_the_same_account(true).await;
}

/// The session id (`sid`) of an access token the service issued, read with its own JWKS.
async fn session_of(client: &mut UsersClient<Channel>, access_token: &str) -> u64 {
    let json = client
        .get_jwks(pb::GetJwksRequest {})
        .await
        .unwrap()
        .into_inner()
        .json;
    let jwks: photoshare_auth::JwkSet = serde_json::from_str(&json).unwrap();
    let defaults = photoshare_config::AuthConfig::default();
    photoshare_auth::TokenVerifier::new(&jwks, &defaults.issuer, &defaults.audience)
        .verify(access_token)
        .unwrap()
        .session_id()
        .unwrap()
        .get()
}

/// Logging out and re-using a refresh token record revocations of those sessions, which
/// `RevocationsSince` hands out in order from any position.
async fn revocations_are_recorded_for_the_gateways(postgres: bool) {
    let mut running = start(postgres).await;
    let client = &mut running.client;
    let session = client
        .sign_up(keyed_signup("eve", "", "long enough password", None))
        .await
        .unwrap()
        .into_inner();
    let user_id = session.user.as_ref().unwrap().id;
    let other = client
        .login(pb::LoginRequest {
            login: "eve".into(),
            password: "long enough password".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let nothing = client
        .revocations_since(pb::RevocationsSinceRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(nothing.revocations.is_empty());

    client
        .logout(pb::LogoutRequest {
            user_id,
            refresh_token: session.refresh_token.clone(),
        })
        .await
        .unwrap();
    // The other login's token is exchanged, then the old one replayed: re-use.
    client
        .refresh(pb::RefreshRequest {
            refresh_token: other.refresh_token.clone(),
        })
        .await
        .unwrap();
    client
        .refresh(pb::RefreshRequest {
            refresh_token: other.refresh_token.clone(),
        })
        .await
        .unwrap_err();

    let all = client
        .revocations_since(pb::RevocationsSinceRequest::default())
        .await
        .unwrap()
        .into_inner()
        .revocations;
    let seen: Vec<(Option<pb::revocation::Subject>, pb::RevocationReason)> = all
        .iter()
        .map(|revocation| (revocation.subject, revocation.reason()))
        .collect();
    let logged_out = session_of(client, &session.access_token).await;
    let reused = session_of(client, &other.access_token).await;
    assert_eq!(
        seen,
        [
            (
                Some(pb::revocation::Subject::SessionId(logged_out)),
                pb::RevocationReason::Logout
            ),
            (
                Some(pb::revocation::Subject::SessionId(reused)),
                pb::RevocationReason::RefreshTokenReuse
            ),
        ]
    );
    let first = &all[0];
    assert!(first.expires_at_ms > first.recorded_at_ms + 900_000);
    let after_first = client
        .revocations_since(pb::RevocationsSinceRequest {
            after_recorded_at_ms: first.recorded_at_ms,
            after_id: first.id,
            limit: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .revocations;
    assert_eq!(after_first, all[1..]);
    let one = client
        .revocations_since(pb::RevocationsSinceRequest {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .revocations;
    assert_eq!(one, all[..1]);

    // Logging out again (the session is already revoked) records nothing new.
    client
        .logout(pb::LogoutRequest {
            user_id,
            refresh_token: session.refresh_token,
        })
        .await
        .unwrap();
    let again = client
        .revocations_since(pb::RevocationsSinceRequest::default())
        .await
        .unwrap()
        .into_inner()
        .revocations;
    assert_eq!(again, all);

    running.shutdown.cancel();
    running.task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_are_recorded_for_the_gateways_on_sqlite() {
    revocations_are_recorded_for_the_gateways(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_are_recorded_for_the_gateways_on_postgres() {
    revocations_are_recorded_for_the_gateways(true).await;
}
