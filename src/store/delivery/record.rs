//! The counters a delivery record moves: on one store the version's
//! row, its actions' rows and the minute; on a cluster the bucket's share
//! of them (see `shares`), so the record writes on one shard.

use crate::store::figures::share_key::{ActionFigure, Figure};
use std::collections::BTreeMap;

use sqlx::{Any, Transaction};

use crate::domain::Millis;
use crate::store::delivery::{Attempt, Recorded};
use crate::store::figures::counters::add_minutes;
use crate::store::figures::minutes::{MinuteCounts, minute_of};
use crate::store::figures::shares::{self, Share};
use crate::store::{Result, Store};

/// Counter moves of one action in one record.
#[derive(Default)]
pub(in crate::store) struct ActionDelta {
    pending: i64,
    sent: i64,
    failed: i64,
    retrying: i64,
    error: Option<String>,
}

impl ActionDelta {
    /// Counts one recorded attempt of a message that was retrying (`was`
    /// 1) or not.
    pub(in crate::store) fn tally(&mut self, report: &mut Recorded, attempt: &Attempt, was: i64) {
        let (retry, error) = match attempt {
            Attempt::Sent => {
                report.sent += 1;
                (self.pending, self.sent, self.retrying) =
                    (self.pending - 1, self.sent + 1, self.retrying - was);
                return;
            }
            Attempt::Released => return,
            Attempt::Retry { error, .. } => (true, error),
            Attempt::Failed { error } => (false, error),
            Attempt::Unanswered { after_ms, error } => {
                report.unanswered += 1;
                (after_ms.is_some(), error)
            }
        };
        if retry {
            report.retried += 1;
            self.retrying += 1 - was;
        } else {
            report.failed += 1;
            (self.pending, self.failed, self.retrying) =
                (self.pending - 1, self.failed + 1, self.retrying - was);
        }
        self.error = Some(error.clone());
    }
}

/// What one record wrote, to be counted.
pub(in crate::store) struct Delivered<'a> {
    pub(in crate::store) version_id: i64,
    pub(in crate::store) report: &'a Recorded,
    pub(in crate::store) deltas: &'a BTreeMap<&'a str, ActionDelta>,
    /// The worker's clock: the minute the attempts count in.
    pub(in crate::store) at: Millis,
}

/// The minute's figures of a record, if it sent or failed any.
fn minute_figures(report: &Recorded) -> Option<MinuteCounts> {
    let minute = MinuteCounts {
        sent: report.sent as i64,
        failed: report.failed as i64,
        ..MinuteCounts::default()
    };
    (minute != MinuteCounts::default()).then_some(minute)
}

impl Delivered<'_> {
    /// As a bucket's share (`now` the database's clock, for the actions'
    /// last error and last send).
    fn share(&self, now: Millis) -> Share {
        let mut s = Share::default();
        let (sent, failed) = (self.report.sent as i64, self.report.failed as i64);
        s.add(Figure::MsgPending, -sent - failed);
        s.add(Figure::MsgSent, sent);
        s.add(Figure::MsgFailed, failed);
        for (action, d) in self.deltas {
            for (figure, n) in [
                (ActionFigure::Pending, d.pending),
                (ActionFigure::Sent, d.sent),
                (ActionFigure::Failed, d.failed),
                (ActionFigure::Retrying, d.retrying),
            ] {
                s.add(Figure::Action(figure, action.to_string()), n);
            }
            if d.sent > 0 {
                s.latest(
                    Figure::Action(ActionFigure::SentAt, action.to_string()),
                    now,
                    None,
                );
            }
            if let Some(e) = &d.error {
                s.latest(
                    Figure::Action(ActionFigure::Error, action.to_string()),
                    now,
                    Some(e.clone()),
                );
            }
        }
        if let Some(m) = minute_figures(self.report) {
            let minute = minute_of(self.at);
            s.add(Figure::MinuteSent(minute), m.sent);
            s.add(Figure::MinuteFailed(minute), m.failed);
        }
        s
    }
}

impl Store {
    /// Moves the counters of what one record wrote: the version's, its
    /// actions' and the minute's; on a cluster with a bucket, that
    /// bucket's share of them.
    pub(in crate::store) async fn count_delivered(
        &self,
        tx: &mut Transaction<'static, Any>,
        bucket: Option<i32>,
        d: Delivered<'_>,
    ) -> Result<()> {
        // The database's clock, read first: on a cluster a write to a
        // table on every node takes no clock inside a CASE.
        let now = crate::store::db_clock_ms(tx, self.backend()).await?;
        if let Some(bucket) = bucket {
            return shares::add(tx, d.version_id, bucket, &d.share(now)).await;
        }
        let Delivered {
            version_id,
            report,
            deltas,
            at,
        } = d;
        let (sent, failed) = (report.sent as i64, report.failed as i64);
        sqlx::query(
            "UPDATE versions SET msg_pending = msg_pending - $2 - $3, msg_sent = msg_sent + $2, \
             msg_failed = msg_failed + $3 WHERE id = $1",
        )
        .bind(version_id)
        .bind(sent)
        .bind(failed)
        .execute(&mut **tx)
        .await?;
        let sql = "UPDATE outbox_actions SET pending = pending + $3, sent = sent + $4, failed = failed + $5, \
             retrying = retrying + $6, \
             last_error = CASE WHEN $7 IS NULL THEN last_error ELSE $7 END, \
             last_error_at = CASE WHEN $7 IS NULL THEN last_error_at ELSE $8 END, \
             last_sent_at = CASE WHEN $4 > 0 THEN $8 ELSE last_sent_at END \
             WHERE version_id = $1 AND action = $2";
        for (action, d) in deltas {
            sqlx::query(sql)
                .bind(version_id)
                .bind(*action)
                .bind(d.pending)
                .bind(d.sent)
                .bind(d.failed)
                .bind(d.retrying)
                .bind(d.error.clone())
                .bind(now)
                .execute(&mut **tx)
                .await?;
        }
        if let Some(minute) = minute_figures(report) {
            let minutes = BTreeMap::from([(minute_of(at), minute)]);
            add_minutes(tx, self.backend(), version_id, &minutes).await?;
        }
        Ok(())
    }
}
