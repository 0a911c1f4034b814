//! What every handler can reach: the service clients, the key cache, the revocation list, the
//! limits, who may read the metrics.

use std::sync::Arc;

use photoshare_telemetry::Metrics;

use crate::authn::KeyCache;
use crate::clients::{Engagement, Feed, Graph, Media, Users};
use crate::rate_limit::RateLimits;
use crate::revocation::Denylist;
use crate::routes::ops::MetricsAccess;

pub struct AppState {
    pub users: Users,
    pub media: Media,
    pub graph: Graph,
    pub engagement: Engagement,
    pub feed: Feed,
    pub keys: Arc<KeyCache>,
    pub revocations: Denylist,
    pub rate_limits: RateLimits,
    pub metrics: Metrics,
    pub metrics_access: MetricsAccess,
}
