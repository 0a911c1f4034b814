//! The post store conformance suite against a real Scylla node, each check in a fresh keyspace
//! (replication factor 1) dropped at the end.
//!
//! No Scylla or Cassandra server can be installed on the development machines, so the test is
//! `#[ignore]`d: `cargo test` reports it as ignored, never as passed. Run it with a node:
//!
//! ```text
//! docker compose -f infra/compose/compose.yaml up scylla
//! PHOTOSHARE_SCYLLA_NODES=127.0.0.1:9042 cargo test -p photoshare-feed-scylla -- --ignored
//! ```
//!
//! Run with `--ignored` but without the variable, or with nodes that do not answer, it fails
//! and says why.

use std::sync::{Arc, Mutex};

use photoshare_feed_scylla::{ScyllaOptions, ScyllaPostStore};
use photoshare_feed_store::conformance::run_post_store_suite;
use photoshare_feed_store::PostStore;
use scylla::client::session_builder::SessionBuilder;

const NOT_RUN: &str = "scylla conformance: NOT RUN — PHOTOSHARE_SCYLLA_NODES is not set; start a \
     node with `docker compose -f infra/compose/compose.yaml up scylla` and set \
     PHOTOSHARE_SCYLLA_NODES=127.0.0.1:9042";

fn nodes_from_env() -> Option<Vec<String>> {
    let value = std::env::var("PHOTOSHARE_SCYLLA_NODES").ok()?;
    let nodes: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|node| !node.is_empty())
        .map(str::to_owned)
        .collect();
    (!nodes.is_empty()).then_some(nodes)
}

#[tokio::test]
#[ignore = "needs a Scylla node: set PHOTOSHARE_SCYLLA_NODES"]
async fn the_scylla_post_store_conforms() {
    let Some(nodes) = nodes_from_env() else {
        panic!("{NOT_RUN}");
    };
    let keyspaces: Arc<Mutex<Vec<String>>> = Arc::default();

    // The suite runs in its own task so that the keyspaces are dropped even when it fails.
    let suite = {
        let nodes = nodes.clone();
        let keyspaces = keyspaces.clone();
        tokio::spawn(async move {
            run_post_store_suite(|| {
                let nodes = nodes.clone();
                let keyspaces = keyspaces.clone();
                async move {
                    let keyspace = photoshare_test_support::unique_name("feed_scylla");
                    keyspaces.lock().unwrap().push(keyspace.clone());
                    let options = ScyllaOptions {
                        create_keyspace: Some(1),
                        ..ScyllaOptions::default()
                    };
                    let store = ScyllaPostStore::connect_with(&nodes, &keyspace, options)
                        .await
                        .unwrap_or_else(|error| {
                            panic!(
                                "scylla conformance: FAILED — PHOTOSHARE_SCYLLA_NODES={} does \
                                 not answer: {error}",
                                nodes.join(",")
                            )
                        });
                    store.ping().await.expect("a fresh store answers a ping");
                    Box::new(store) as Box<dyn PostStore>
                }
            })
            .await;
        })
    };
    let outcome = suite.await;

    let created = keyspaces.lock().unwrap().clone();
    let cleanup = drop_keyspaces(&nodes, &created).await;
    if let Err(error) = outcome {
        // The suite's own failure is the one to report; a failed clean-up only adds a note.
        if let Err(cleanup) = cleanup {
            eprintln!("{cleanup}");
        }
        std::panic::resume_unwind(error.into_panic());
    }
    if let Err(cleanup) = cleanup {
        panic!("{cleanup}");
    }
}

async fn drop_keyspaces(nodes: &[String], keyspaces: &[String]) -> Result<(), String> {
    if keyspaces.is_empty() {
        return Ok(());
    }
    let session = SessionBuilder::new()
        .known_nodes(nodes)
        .build()
        .await
        .map_err(|error| format!("cannot drop the test keyspaces {keyspaces:?}: {error}"))?;
    for keyspace in keyspaces {
        session
            .query_unpaged(format!("DROP KEYSPACE IF EXISTS {keyspace}"), ())
            .await
            .map_err(|error| format!("dropping {keyspace}: {error}"))?;
    }
    Ok(())
}
