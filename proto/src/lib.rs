//! The contracts between photoshare services: the gRPC services and messages generated from
//! `proto/`, re-exported with the `tonic` and `prost` they were built with, plus [`ErrorCode`],
//! the one list of error codes that every service speaks and the gateway turns into HTTP.
//!
//! This crate holds no service logic and depends on no other photoshare crate.

pub mod error;
pub mod page;

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

/// Topic names (BRIEF.md, "Events"). The record key of each is noted.
pub mod topics {
    /// Key: photo id.
    pub const PHOTO_UPLOADED: &str = "photo.uploaded";
    /// Key: author id.
    pub const PHOTO_PUBLISHED: &str = "photo.published";
    /// Key: author id.
    pub const PHOTO_DELETED: &str = "photo.deleted";
    /// Key: follower id.
    pub const GRAPH_FOLLOWED: &str = "graph.followed";
    /// Key: follower id.
    pub const GRAPH_UNFOLLOWED: &str = "graph.unfollowed";
    /// Key: photo id.
    pub const ENGAGEMENT_LIKED: &str = "engagement.liked";
    /// Key: photo id.
    pub const ENGAGEMENT_COMMENTED: &str = "engagement.commented";
}
