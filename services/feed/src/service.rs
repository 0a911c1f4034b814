//! The `photoshare.feed.v1.Feed` gRPC service: checks the request, reads the page.

use photoshare_proto::common::v1::PageInfo;
use photoshare_proto::feed::v1 as pb;
use photoshare_proto::page::{cursor_after, Page};
use tonic::{Request, Response, Status};

use crate::error::FeedError;
use crate::fanout::FanOut;
use crate::reader::FeedReader;

pub struct FeedService {
    reader: FeedReader,
    fan_out: FanOut,
}

impl FeedService {
    pub fn new(reader: FeedReader, fan_out: FanOut) -> FeedService {
        FeedService { reader, fan_out }
    }
}

#[tonic::async_trait]
impl pb::feed_server::Feed for FeedService {
    async fn get_feed(
        &self,
        request: Request<pb::GetFeedRequest>,
    ) -> Result<Response<pb::FeedPage>, Status> {
        let request = request.into_inner();
        if request.reader_id == 0 {
            return Err(FeedError::Invalid("reader_id is required".to_owned()).into());
        }
        let page = Page::parse(request.page.as_ref()).map_err(FeedError::Invalid)?;
        let read = self
            .reader
            .read(request.reader_id, page.after, page.limit as usize)
            .await?;
        Ok(Response::new(pb::FeedPage {
            items: read
                .entries
                .iter()
                .map(|entry| pb::FeedItem {
                    post_id: entry.post_id,
                    author_id: entry.author_id,
                })
                .collect(),
            page: Some(PageInfo {
                next_cursor: read.next_below.map(cursor_after).unwrap_or_default(),
            }),
        }))
    }

    async fn backfill(
        &self,
        request: Request<pb::BackfillRequest>,
    ) -> Result<Response<pb::BackfillResponse>, Status> {
        let request = request.into_inner();
        if request.follower_id == 0 || request.followee_id == 0 {
            return Err(
                FeedError::Invalid("follower_id and followee_id are required".to_owned()).into(),
            );
        }
        self.fan_out
            .backfill(request.follower_id, request.followee_id)
            .await?;
        Ok(Response::new(pb::BackfillResponse {}))
    }
}
