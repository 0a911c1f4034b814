//! A feed under test: the real graph service (gRPC, in process, SQLite or PostgreSQL), the
//! chosen cache and durable store, and the fan-out handler fed by the test itself, which thus
//! decides the order in which events arrive — as a real bus may.

#![allow(dead_code)] // each test file uses part of it

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use photoshare_config::Config;
use photoshare_events::{EventBus, Handler, LocalLog, Message};
use photoshare_feed::{FanOut, FeedReader};
use photoshare_feed_store::{FeedCache, FeedEntry, MemoryCache, PostStore, SqlPostStore};
use photoshare_proto::events::v1 as events;
use photoshare_proto::graph::v1 as pb;
use photoshare_proto::graph::v1::graph_client::GraphClient;
use photoshare_proto::prost::Message as _;
use photoshare_proto::topics;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheKind {
    Memory,
    Redis,
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub cache: CacheKind,
    pub postgres: bool,
    pub fanout_threshold: u64,
    pub cache_cap: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cache: CacheKind::Memory,
            postgres: false,
            fanout_threshold: 10_000,
            cache_cap: 800,
        }
    }
}

pub struct Feed {
    pub graph: GraphClient<Channel>,
    pub reader: FeedReader,
    pub fan_out: FanOut,
    pub cache: Arc<dyn FeedCache>,
    pub posts: Arc<dyn PostStore>,
    pub config: Config,
    shutdown: CancellationToken,
    graph_task: tokio::task::JoinHandle<Result<(), photoshare_runtime::RuntimeError>>,
    _data_dir: tempfile::TempDir,
}

static EVENT_IDS: AtomicU64 = AtomicU64::new(1);

fn event(topic: &str, key: u64, payload: Vec<u8>) -> Message {
    Message::event(
        topic,
        key.to_string(),
        EVENT_IDS.fetch_add(1, Ordering::Relaxed),
        0,
        payload,
    )
}

pub fn published(post: u64, author: u64) -> Message {
    let payload = events::PhotoPublished {
        photo_id: post,
        author_id: author,
        created_at_ms: 0,
    };
    event(topics::PHOTO_PUBLISHED, author, payload.encode_to_vec())
}

pub fn deleted(post: u64, author: u64) -> Message {
    let payload = events::PhotoDeleted {
        photo_id: post,
        author_id: author,
    };
    event(topics::PHOTO_DELETED, author, payload.encode_to_vec())
}

pub fn followed(follower: u64, followee: u64) -> Message {
    let payload = events::Followed {
        follower_id: follower,
        followee_id: followee,
    };
    event(topics::GRAPH_FOLLOWED, follower, payload.encode_to_vec())
}

pub fn unfollowed(follower: u64, followee: u64) -> Message {
    let payload = events::Unfollowed {
        follower_id: follower,
        followee_id: followee,
    };
    event(topics::GRAPH_UNFOLLOWED, follower, payload.encode_to_vec())
}

/// The Redis cache for a test: a key prefix of its own.
async fn redis_cache(cap: usize) -> Arc<dyn FeedCache> {
    let url = photoshare_test_support::require_redis().await;
    let options = photoshare_feed_redis::RedisCacheOptions {
        cap,
        ttl: Duration::from_secs(3600),
        key_prefix: format!("{}:", photoshare_test_support::unique_name("feedtest")),
    };
    Arc::new(
        photoshare_feed_redis::RedisCache::connect(&url, options)
            .await
            .expect("connecting to Redis"),
    )
}

pub async fn start(options: Options) -> Feed {
    let (mut config, data_dir) = photoshare_test_support::service_config(options.postgres).await;
    config.feed.fanout_threshold = options.fanout_threshold;
    config.feed.cache_cap = options.cache_cap;

    // The graph service, publishing into a log nobody reads: the test delivers feed events.
    let bus: Arc<dyn EventBus> = Arc::new(LocalLog::open(data_dir.path()).await.unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    config.feed.graph_url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let graph_task = tokio::spawn(photoshare_runtime::serve(
        &photoshare_graph::SPEC,
        listener,
        config.clone(),
        photoshare_runtime::SharedBackends::with_bus(bus),
        shutdown.clone(),
    ));
    let graph = loop {
        if let Ok(channel) = Channel::from_shared(config.feed.graph_url.clone())
            .unwrap()
            .connect()
            .await
        {
            let mut client = GraphClient::new(channel);
            // Answers once its database is migrated.
            if client
                .following_ids(pb::FollowingIdsRequest {
                    user_id: 1,
                    more_followers_than: 0,
                })
                .await
                .is_ok()
            {
                break client;
            }
        }
        assert!(!graph_task.is_finished(), "the graph service stopped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    let database =
        photoshare_runtime::resolve::database("feed", &config, photoshare_feed_store::MIGRATIONS)
            .await
            .unwrap();
    let posts: Arc<dyn PostStore> = Arc::new(SqlPostStore::new(database));
    let cache: Arc<dyn FeedCache> = match options.cache {
        CacheKind::Memory => Arc::new(MemoryCache::new(
            options.cache_cap,
            Duration::from_secs(3600),
        )),
        CacheKind::Redis => redis_cache(options.cache_cap).await,
    };
    let stores = photoshare_runtime::FeedStores::from_parts(cache.clone(), posts.clone());
    let reader = photoshare_feed::reader(&config, &stores).unwrap();
    let fan_out = photoshare_feed::fan_out(&config, &stores).unwrap();
    Feed {
        graph,
        reader,
        fan_out,
        cache,
        posts,
        config,
        shutdown,
        graph_task,
        _data_dir: data_dir,
    }
}

impl Feed {
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.graph_task.await.unwrap().unwrap();
    }

    pub async fn deliver(&self, message: &Message) {
        self.fan_out
            .handle(message)
            .await
            .unwrap_or_else(|error| panic!("handling {}: {error}", message.topic));
    }

    /// Follows in the graph; `private` makes it a request. Returns whether it is a follow now.
    pub async fn follow(&self, follower: u64, followee: u64, private: bool) -> bool {
        let state = self
            .graph
            .clone()
            .follow(pb::FollowRequest {
                follower_id: follower,
                followee_id: followee,
                followee_is_private: private,
            })
            .await
            .unwrap()
            .into_inner()
            .state;
        state == pb::FollowState::Following as i32
    }

    pub async fn approve(&self, owner: u64, requester: u64) -> bool {
        self.graph
            .clone()
            .approve_request(pb::RequestDecision {
                owner_id: owner,
                requester_id: requester,
            })
            .await
            .is_ok()
    }

    pub async fn unfollow(&self, follower: u64, followee: u64) {
        self.graph
            .clone()
            .unfollow(pb::UnfollowRequest {
                follower_id: follower,
                followee_id: followee,
            })
            .await
            .unwrap();
    }

    /// The whole feed, read in pages of `page`; panics if a page is longer than asked.
    pub async fn read_all(&self, reader: u64, page: usize) -> Vec<FeedEntry> {
        let mut all = Vec::new();
        let mut cursor = None;
        for _ in 0..10_000 {
            let read = self.reader.read(reader, cursor, page).await.unwrap();
            assert!(read.entries.len() <= page, "a page longer than its limit");
            all.extend(read.entries);
            match read.next_below {
                Some(next) => cursor = Some(next),
                None => return all,
            }
        }
        panic!("the feed of {reader} did not end");
    }
}
