//! The contracts between photoshare services: the gRPC services and messages generated from
//! `proto/`, re-exported with the `tonic` and `prost` they were built with, plus [`ErrorCode`],
//! the one list of error codes that every service speaks and the gateway turns into HTTP, and
//! the event catalogue ([`Topic`], [`Event`]): which payload and which key each topic carries.
//!
//! This crate holds no service logic and depends on no other photoshare crate.

pub mod catalogue;
pub mod error;
pub mod page;

pub use catalogue::{Event, EventDecodeError, Topic};
pub use error::ErrorCode;
pub use prost;
pub use tonic;

pub mod common {
    pub mod v1 {
        tonic::include_proto!("photoshare.common.v1");
    }
}

pub mod users {
    pub mod v1 {
        tonic::include_proto!("photoshare.users.v1");
    }
}

pub mod events {
    pub mod v1 {
        tonic::include_proto!("photoshare.events.v1");
    }
}

pub mod media {
    pub mod v1 {
        tonic::include_proto!("photoshare.media.v1");
    }
}

pub mod graph {
    pub mod v1 {
        tonic::include_proto!("photoshare.graph.v1");
    }
}

pub mod engagement {
    pub mod v1 {
        tonic::include_proto!("photoshare.engagement.v1");
    }
}

pub mod feed {
    pub mod v1 {
        tonic::include_proto!("photoshare.feed.v1");
    }
}

/// The topic names as strings, for code that subscribes by name. [`Topic`] is the table they
/// come from, with each topic's key and payload.
pub mod topics {
    use crate::Topic;

    pub const PHOTO_UPLOADED: &str = Topic::PhotoUploaded.as_str();
    pub const PHOTO_PUBLISHED: &str = Topic::PhotoPublished.as_str();
    pub const PHOTO_DELETED: &str = Topic::PhotoDeleted.as_str();
    pub const GRAPH_FOLLOWED: &str = Topic::Followed.as_str();
    pub const GRAPH_UNFOLLOWED: &str = Topic::Unfollowed.as_str();
    pub const ENGAGEMENT_LIKED: &str = Topic::Liked.as_str();
    pub const ENGAGEMENT_COMMENTED: &str = Topic::Commented.as_str();
}
