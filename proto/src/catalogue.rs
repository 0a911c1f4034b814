//! The event catalogue (BRIEF.md, "Events"): every topic with its record key and its payload
//! type, written once in the table below. Producers build an [`Event`] and get the topic and the
//! key from it, so neither can be paired with the wrong payload; consumers get a typed [`Event`]
//! back from the topic and the payload bytes, or an error that is poison.
//!
//! The wire format is the table's: topic names, and the payload encoded as the protobuf message
//! of `photoshare.events.v1` whose name is the variant's.

use prost::Message as _;

use crate::events::v1 as payload;

/// Why bytes on a topic are not an event of the catalogue.
#[derive(Debug, thiserror::Error)]
pub enum EventDecodeError {
    #[error("{0:?} is not a topic of the event catalogue")]
    UnknownTopic(String),
    #[error("the payload is not a {topic} event: {source}")]
    Payload {
        topic: Topic,
        source: prost::DecodeError,
    },
}

/// Writes [`Topic`] and [`Event`] from one table: `Variant = "topic.name", key field;` where
/// `Variant` is also the payload's message name and `field` the payload field that is the key.
macro_rules! catalogue {
    ($($(#[doc = $doc:literal])* $variant:ident = $name:literal, key $key:ident;)+) => {
        /// A topic of the catalogue.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Topic {
            $($(#[doc = $doc])* $variant,)+
        }

        impl Topic {
            /// Every topic, in the table's order.
            pub const ALL: &'static [Topic] = &[$(Topic::$variant),+];

            /// The topic's name on the bus.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Topic::$variant => $name,)+
                }
            }

            /// The payload field whose value is the record key. Records with one key on one topic
            /// keep their order; nothing else is ordered.
            pub const fn key_field(self) -> &'static str {
                match self {
                    $(Topic::$variant => stringify!($key),)+
                }
            }

            /// The topic named `name`, if the catalogue has it (dead-letter topics are not in it).
            pub fn parse(name: &str) -> Option<Topic> {
                match name {
                    $($name => Some(Topic::$variant),)+
                    _ => None,
                }
            }
        }

        /// An event of the catalogue: the variant is the topic, the value its payload.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Event {
            $($(#[doc = $doc])* $variant(payload::$variant),)+
        }

        impl Event {
            pub fn topic(&self) -> Topic {
                match self {
                    $(Event::$variant(_) => Topic::$variant,)+
                }
            }

            /// The record key: the id the event is about ([`Topic::key_field`] of the payload),
            /// written in decimal on the bus.
            pub fn key(&self) -> u64 {
                match self {
                    $(Event::$variant(payload) => payload.$key,)+
                }
            }

            /// The payload, protobuf-encoded.
            pub fn encode(&self) -> Vec<u8> {
                match self {
                    $(Event::$variant(payload) => payload.encode_to_vec(),)+
                }
            }

            /// The event that `payload` on `topic` is.
            pub fn decode(topic: &str, payload: &[u8]) -> Result<Event, EventDecodeError> {
                let topic = Topic::parse(topic)
                    .ok_or_else(|| EventDecodeError::UnknownTopic(topic.to_owned()))?;
                let malformed = |source| EventDecodeError::Payload { topic, source };
                Ok(match topic {
                    $(Topic::$variant => {
                        Event::$variant(payload::$variant::decode(payload).map_err(malformed)?)
                    })+
                })
            }
        }
    };
}

catalogue! {
    /// `photo.uploaded`, keyed by photo: an upload was checked and a photo awaits processing.
    PhotoUploaded = "photo.uploaded", key photo_id;
    /// `photo.published`, keyed by author: a photo became ready and visible.
    PhotoPublished = "photo.published", key author_id;
    /// `photo.deleted`, keyed by author.
    PhotoDeleted = "photo.deleted", key author_id;
    /// `graph.followed`, keyed by follower: the follower now follows the followee (approved
    /// requests included).
    Followed = "graph.followed", key follower_id;
    /// `graph.unfollowed`, keyed by follower.
    Unfollowed = "graph.unfollowed", key follower_id;
    /// `engagement.liked`, keyed by photo.
    Liked = "engagement.liked", key photo_id;
    /// `engagement.commented`, keyed by photo.
    Commented = "engagement.commented", key photo_id;
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One event per topic; every id differs, so a key taken from the wrong field shows.
    fn one_of_each() -> Vec<Event> {
        vec![
            Event::PhotoUploaded(payload::PhotoUploaded {
                photo_id: 11,
                author_id: 12,
                object_key: "originals/12/1".into(),
                content_type: "image/jpeg".into(),
            }),
            Event::PhotoPublished(payload::PhotoPublished {
                photo_id: 21,
                author_id: 22,
                created_at_ms: 23,
            }),
            Event::PhotoDeleted(payload::PhotoDeleted {
                photo_id: 31,
                author_id: 32,
            }),
            Event::Followed(payload::Followed {
                follower_id: 41,
                followee_id: 42,
            }),
            Event::Unfollowed(payload::Unfollowed {
                follower_id: 51,
                followee_id: 52,
            }),
            Event::Liked(payload::Liked {
                photo_id: 61,
                user_id: 62,
                photo_author_id: 63,
            }),
            Event::Commented(payload::Commented {
                photo_id: 71,
                comment_id: 72,
                user_id: 73,
                photo_author_id: 74,
            }),
        ]
    }

    #[test]
    fn the_table_is_the_briefs() {
        let table: Vec<(&str, &str)> = Topic::ALL
            .iter()
            .map(|topic| (topic.as_str(), topic.key_field()))
            .collect();
        assert_eq!(
            table,
            [
                ("photo.uploaded", "photo_id"),
                ("photo.published", "author_id"),
                ("photo.deleted", "author_id"),
                ("graph.followed", "follower_id"),
                ("graph.unfollowed", "follower_id"),
                ("engagement.liked", "photo_id"),
                ("engagement.commented", "photo_id"),
            ]
        );
        for topic in Topic::ALL {
            assert_eq!(Topic::parse(topic.as_str()), Some(*topic));
        }
        assert_eq!(Topic::parse("photo.uploaded.dlq"), None);
    }

    #[test]
    fn keys_come_from_the_payload() {
        let keys: Vec<(Topic, u64)> = one_of_each()
            .iter()
            .map(|event| (event.topic(), event.key()))
            .collect();
        assert_eq!(
            keys,
            [
                (Topic::PhotoUploaded, 11),
                (Topic::PhotoPublished, 22),
                (Topic::PhotoDeleted, 32),
                (Topic::Followed, 41),
                (Topic::Unfollowed, 51),
                (Topic::Liked, 61),
                (Topic::Commented, 71),
            ]
        );
    }

    #[test]
    fn events_round_trip_through_topic_and_bytes() {
        let events = one_of_each();
        assert_eq!(events.len(), Topic::ALL.len(), "one of each topic");
        for event in events {
            let bytes = event.encode();
            assert_eq!(
                Event::decode(event.topic().as_str(), &bytes).unwrap(),
                event
            );
        }
    }

    #[test]
    fn the_wire_format_is_the_payload_message() {
        let payload = payload::PhotoDeleted {
            photo_id: 5,
            author_id: 6,
        };
        assert_eq!(
            Event::PhotoDeleted(payload).encode(),
            payload.encode_to_vec()
        );
        assert_eq!(
            Event::decode("photo.deleted", &payload.encode_to_vec()).unwrap(),
            Event::PhotoDeleted(payload)
        );
    }

    #[test]
    fn unknown_topics_and_garbage_are_errors() {
        assert!(matches!(
            Event::decode("photo.uploaded.dlq", &[]),
            Err(EventDecodeError::UnknownTopic(topic)) if topic == "photo.uploaded.dlq"
        ));
        let error = Event::decode("graph.followed", &[0xff, 0xff]).unwrap_err();
        assert!(matches!(
            error,
            EventDecodeError::Payload {
                topic: Topic::Followed,
                ..
            }
        ));
        assert!(error.to_string().contains("graph.followed"));
    }
}
