//! The users service over real gRPC, on SQLite and PostgreSQL: the calls the REST API does not
//! expose yet (batch lookups, by-id reads) and the error codes they carry.

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
