//! One record on a topic: key, value (an encoded `Envelope`) and headers; and the way between a
//! record and a typed [`Event`] of the catalogue.

use photoshare_proto::events::v1::Envelope;
use photoshare_proto::prost::Message as _;
use photoshare_proto::Event;

use crate::EventError;

pub const HEADER_EVENT_ID: &str = "event-id";
pub const HEADER_EVENT_TYPE: &str = "event-type";
/// On a dead letter: why handling failed.
pub const HEADER_DLQ_ERROR: &str = "dlq-error";
/// On a dead letter: how many times handling was tried.
pub const HEADER_DLQ_ATTEMPTS: &str = "dlq-attempts";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    /// The entity the event is about; records with one key keep their order.
    pub key: String,
    pub value: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl Message {
    /// An event of type `topic` about `key`: `payload` wrapped in an [`Envelope`], with the id
    /// and type repeated in headers and the current trace context added.
    pub fn event(
        topic: &str,
        key: impl Into<String>,
        event_id: u64,
        time_ms: i64,
        payload: Vec<u8>,
    ) -> Message {
        let envelope = Envelope {
            id: event_id.to_string(),
            r#type: topic.to_owned(),
            time_ms,
            payload,
        };
        let mut headers = vec![
            (HEADER_EVENT_ID.to_owned(), envelope.id.clone()),
            (HEADER_EVENT_TYPE.to_owned(), topic.to_owned()),
        ];
        headers.extend(photoshare_telemetry::propagation::current_context_headers());
        Message {
            topic: topic.to_owned(),
            key: key.into(),
            value: envelope.encode_to_vec(),
            headers,
        }
    }

    /// `event` as a record: the topic and the key its payload names, in an [`Envelope`].
    pub fn from_event(event: &Event, event_id: u64, time_ms: i64) -> Message {
        Message::event(
            event.topic().as_str(),
            event.key().to_string(),
            event_id,
            time_ms,
            event.encode(),
        )
    }

    /// The typed event this record carries. An error (a broken envelope, a topic outside the
    /// catalogue, a payload that does not decode) will never succeed: it is poison to a consumer.
    pub fn decode_event(&self) -> Result<Event, EventError> {
        let envelope = self.envelope()?;
        Event::decode(&self.topic, &envelope.payload)
            .map_err(|error| EventError::Malformed(error.to_string()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn envelope(&self) -> Result<Envelope, EventError> {
        Envelope::decode(self.value.as_slice())
            .map_err(|error| EventError::Malformed(error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_carries_its_id_and_type_twice() {
        let message = Message::event("photo.uploaded", "42", 7, 1_000, b"payload".to_vec());
        assert_eq!(message.header(HEADER_EVENT_ID), Some("7"));
        assert_eq!(message.header(HEADER_EVENT_TYPE), Some("photo.uploaded"));
        let envelope = message.envelope().unwrap();
        assert_eq!(envelope.id, "7");
        assert_eq!(envelope.r#type, "photo.uploaded");
        assert_eq!(envelope.time_ms, 1_000);
        assert_eq!(envelope.payload, b"payload");
    }

    #[test]
    fn a_typed_event_gets_its_topic_and_key_from_the_catalogue() {
        use photoshare_proto::events::v1::PhotoPublished;
        let event = Event::PhotoPublished(PhotoPublished {
            photo_id: 5,
            author_id: 6,
            created_at_ms: 7,
        });
        let message = Message::from_event(&event, 9, 1_000);
        assert_eq!(message.topic, "photo.published");
        assert_eq!(message.key, "6", "photo.published is keyed by author");
        assert_eq!(message.header(HEADER_EVENT_TYPE), Some("photo.published"));
        assert_eq!(message.envelope().unwrap().time_ms, 1_000);
        assert_eq!(message.decode_event().unwrap(), event);
    }

    #[test]
    fn records_outside_the_catalogue_are_malformed() {
        let unknown = Message::event("photo.uploaded.dlq", "1", 1, 0, Vec::new());
        assert!(matches!(
            unknown.decode_event(),
            Err(EventError::Malformed(_))
        ));
        let garbage = Message::event("graph.followed", "1", 1, 0, vec![0xff, 0xff]);
        assert!(matches!(
            garbage.decode_event(),
            Err(EventError::Malformed(_))
        ));
    }

    #[test]
    fn garbage_is_not_an_envelope() {
        let message = Message {
            topic: "t".into(),
            key: "k".into(),
            value: vec![0xff, 0xff, 0xff],
            headers: vec![],
        };
        assert!(message.envelope().is_err());
    }
}
