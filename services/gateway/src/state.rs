//! What every handler can reach: the service clients, the key cache, the limits.

use std::sync::Arc;

use photoshare_telemetry::Metrics;

use crate::authn::KeyCache;
use crate::clients::{Engagement, Feed, Graph, Media, Users};
use crate::rate_limit::AuthRateLimits;

pub struct AppState {
    pub users: Users,
    pub media: Media,
    pub graph: Graph,
    pub engagement: Engagement,
    pub feed: Feed,
    pub keys: Arc<KeyCache>,
    pub rate_limits: AuthRateLimits,
    pub metrics: Metrics,
}
