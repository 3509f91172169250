//! `EventRelay`: one round of draining the outbox into the external log.

use crate::error::RepositoryError;
use crate::relay::{EventOutbox, EventSink, SinkError};
use std::sync::Arc;

/// Projects served per round; the rest wait for the next.
const PROJECTS_PER_ROUND: u32 = 64;

/// What one round did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayRound {
    /// Another process holds the relay.
    NotLeader,
    /// Nothing was waiting.
    Idle,
    /// This many events reached the sink (and their cursors moved).
    Delivered(u64),
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Outbox(#[from] RepositoryError),
    /// The sink failed after `delivered` events of this round had gone through.
    #[error("{source} (after {delivered} events of this round)")]
    Sink { source: SinkError, delivered: u64 },
}

pub struct EventRelay {
    outbox: Arc<dyn EventOutbox>,
    sink: Arc<dyn EventSink>,
    batch_events: u32,
}

impl EventRelay {
    pub fn new(outbox: Arc<dyn EventOutbox>, sink: Arc<dyn EventSink>, batch_events: u32) -> Self {
        Self { outbox, sink, batch_events: batch_events.max(1) }
    }

    pub fn outbox(&self) -> &Arc<dyn EventOutbox> {
        &self.outbox
    }

    /// Delivers up to one batch per project waiting, in offset order, moving each project's
    /// cursor only after the sink has stored its batch. A project whose delivery fails keeps
    /// its cursor, so the same events (and nothing after them) are tried again next round.
    /// An unavailable sink ends the round (the others would wait for it too); a sink that
    /// refuses one project's events does not hold up the other projects.
    pub async fn relay_once(&self) -> Result<RelayRound, RelayError> {
        if !self.outbox.lead().await? {
            return Ok(RelayRound::NotLeader);
        }
        let batches = self.outbox.pending(PROJECTS_PER_ROUND, self.batch_events).await?;
        if batches.is_empty() {
            return Ok(RelayRound::Idle);
        }
        let mut delivered = 0u64;
        let mut refused = None;
        for batch in batches {
            let Some(last) = batch.events.last().map(|e| e.offset) else { continue };
            match self.sink.deliver(batch.project_id, &batch.events).await {
                Ok(()) => {}
                Err(source @ SinkError::Unavailable(_)) => {
                    return Err(RelayError::Sink { source, delivered });
                }
                Err(source @ SinkError::Rejected(_)) => {
                    tracing::error!(project = %batch.project_id, error = %source, "the external event log refuses this project's events; they wait in the outbox");
                    refused.get_or_insert(source);
                    continue;
                }
            }
            self.outbox.delivered(batch.project_id, last).await?;
            delivered += batch.events.len() as u64;
        }
        // Refusals alone make a failed round (the caller backs off); with progress
        // elsewhere the relay goes on at full speed.
        match refused {
            Some(source) if delivered == 0 => Err(RelayError::Sink { source, delivered }),
            _ => Ok(RelayRound::Delivered(delivered)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Event;
    use crate::ids::ProjectId;
    use crate::relay::{MockEventOutbox, MockEventSink, OutboxBatch};
    use chrono::Utc;
    use mockall::Sequence;
    use serde_json::{Map, Value};
    use uuid::Uuid;

    fn events(offsets: std::ops::RangeInclusive<i64>) -> Vec<Event> {
        offsets
            .map(|offset| Event {
                id: Uuid::now_v7(),
                offset,
                topic: "t".into(),
                key: None,
                headers: Map::new(),
                payload: Value::from(offset),
                published_at: Utc::now(),
            })
            .collect()
    }

    #[tokio::test]
    async fn a_follower_touches_nothing() {
        let mut outbox = MockEventOutbox::new();
        outbox.expect_lead().returning(|| Ok(false));
        outbox.expect_pending().never();
        let mut sink = MockEventSink::new();
        sink.expect_deliver().never();
        let relay = EventRelay::new(Arc::new(outbox), Arc::new(sink), 100);
        assert_eq!(relay.relay_once().await.unwrap(), RelayRound::NotLeader);
    }

    #[tokio::test]
    async fn cursors_move_only_after_the_sink_stored_the_batch() {
        let (a, b) = (ProjectId::new(), ProjectId::new());
        let mut seq = Sequence::new();
        let mut outbox = MockEventOutbox::new();
        let mut sink = MockEventSink::new();
        outbox.expect_lead().returning(|| Ok(true));
        outbox
            .expect_pending()
            .withf(|projects, events| *projects == 64 && *events == 3)
            .returning(move |_, _| {
                Ok(vec![
                    OutboxBatch { project_id: a, events: events(5..=7) },
                    OutboxBatch { project_id: b, events: events(1..=2) },
                ])
            });
        sink.expect_deliver()
            .withf(move |p, e| *p == a && e.iter().map(|e| e.offset).eq(5..=7))
            .once()
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(()));
        outbox
            .expect_delivered()
            .withf(move |p, o| *p == a && *o == 7)
            .once()
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(()));
        sink.expect_deliver()
            .withf(move |p, _| *p == b)
            .once()
            .in_sequence(&mut seq)
            .returning(|_, _| Err(SinkError::Unavailable(crate::Cause::msg("broker down"))));
        // b's cursor stays where it was.
        outbox.expect_delivered().withf(move |p, _| *p == b).never();
        let relay = EventRelay::new(Arc::new(outbox), Arc::new(sink), 3);
        match relay.relay_once().await {
            Err(RelayError::Sink { delivered: 3, source: SinkError::Unavailable(_) }) => {}
            other => panic!("expected a sink failure after 3 events, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_refused_project_does_not_hold_up_the_others() {
        let (a, b) = (ProjectId::new(), ProjectId::new());
        let mut outbox = MockEventOutbox::new();
        let mut sink = MockEventSink::new();
        outbox.expect_lead().returning(|| Ok(true));
        outbox.expect_pending().returning(move |_, _| {
            Ok(vec![
                OutboxBatch { project_id: a, events: events(1..=2) },
                OutboxBatch { project_id: b, events: events(1..=4) },
            ])
        });
        sink.expect_deliver()
            .withf(move |p, _| *p == a)
            .returning(|_, _| Err(SinkError::Rejected(crate::Cause::msg("record too large"))));
        sink.expect_deliver().withf(move |p, _| *p == b).once().returning(|_, _| Ok(()));
        outbox.expect_delivered().withf(move |p, _| *p == a).never();
        outbox
            .expect_delivered()
            .withf(move |p, o| *p == b && *o == 4)
            .once()
            .returning(|_, _| Ok(()));
        let relay = EventRelay::new(Arc::new(outbox), Arc::new(sink), 10);
        assert_eq!(relay.relay_once().await.unwrap(), RelayRound::Delivered(4));
    }

    #[tokio::test]
    async fn an_empty_outbox_is_idle() {
        let mut outbox = MockEventOutbox::new();
        outbox.expect_lead().returning(|| Ok(true));
        outbox.expect_pending().returning(|_, _| Ok(Vec::new()));
        let relay = EventRelay::new(Arc::new(outbox), Arc::new(MockEventSink::new()), 10);
        assert_eq!(relay.relay_once().await.unwrap(), RelayRound::Idle);
    }
}
