//! Flow control per channel, shared by every delivery worker of the store:
//! a rate as send slots handed out in order (one row per channel, the next
//! free slot), and a concurrency as leases each worker holds until it has
//! recorded its batch or its lease ran out. Both live in the store, so two
//! `deliver` processes on two hosts share one limit exactly.

use sqlx::Row;

use crate::store::{Backend, Result, Store};

/// What a worker may send now through a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slots {
    /// Messages it may claim (0: wait).
    pub n: i64,
    /// How long from now its first slot starts, in microseconds (below
    /// zero: its first slots went by while the reservation committed).
    pub wait_us: i64,
    /// The time between two of its slots, in microseconds (0: no rate).
    pub interval_us: i64,
    /// The end of its slots on the database's clock (to give back the
    /// unused ones).
    pub end_us: i64,
}

/// A channel's limits as the worker asks for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Microseconds between two sends; `None`: no rate.
    pub interval_us: Option<i64>,
    /// Messages in flight at once over every worker; `None`: no limit.
    pub concurrency: Option<i64>,
    /// How long from now the worker needs before its first slot (what
    /// its reservation and claim take), in microseconds: the slots it gets
    /// start no sooner, so none is already gone when its message is ready.
    pub lead_us: i64,
}

/// How far ahead of a worker's lead the channel's slots may already be
/// handed out: beyond it a worker gets none and waits (`Slots::wait_us`)
/// rather than queue behind the others. So however many workers share a
/// channel, slots reserved at an old rate run out within this (a rate set
/// live holds within a second), and a stop waits little for batches still
/// waiting for their slots.
pub const SLOT_HORIZON_US: i64 = 250_000;

/// The database's clock in microseconds.
fn now_us(backend: Backend) -> String {
    format!("({} * 1000)", backend.db_now())
}

/// The channel's next free slot, its row locked for the rest of the
/// transaction.
async fn locked_next_slot(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    backend: Backend,
    channel: &str,
) -> Result<i64> {
    if let Some(sql) = backend.write_lock("channel_slots", "channel") {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(channel)
            .execute(&mut **tx)
            .await?;
    }
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT next_us FROM channel_slots WHERE channel = $1{}",
        backend.row_lock()
    )))
    .bind(channel)
    .fetch_one(&mut **tx)
    .await?)
}

/// What the other workers hold of the channel's concurrency now.
async fn held_by_others(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    channel: &str,
    worker: &str,
    now_ms: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM channel_leases \
         WHERE channel = $1 AND worker <> $2 AND until_ms > $3",
    )
    .bind(channel)
    .bind(worker)
    .bind(now_ms)
    .fetch_one(&mut **tx)
    .await?)
}

/// The worker's lease of `n` sends through the channel, until `until_ms`.
async fn hold_lease(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    channel: &str,
    worker: &str,
    n: i64,
    until_ms: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO channel_leases (channel, worker, n, until_ms) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (channel, worker) DO UPDATE SET n = excluded.n, until_ms = excluded.until_ms",
    )
    .bind(channel)
    .bind(worker)
    .bind(n)
    .bind(until_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Reserves up to `want` sends through `channel` for `worker`: as many
    /// as its concurrency leaves free (leases of other workers that have
    /// not run out), each in the next free slot of its rate. The lease
    /// lasts until the last slot plus `lease_ms`.
    pub async fn reserve_flow(
        &self,
        channel: &str,
        worker: &str,
        want: i64,
        limits: Limits,
        lease_ms: i64,
    ) -> Result<Slots> {
        let mut tx = self.begin_background_write().await?;
        let now = crate::store::db_clock_ms(&mut tx, self.backend()).await? * 1000;
        sqlx::query(
            "INSERT INTO channel_slots (channel, next_us) VALUES ($1, $2) ON CONFLICT (channel) DO NOTHING",
        )
        .bind(channel)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let next = locked_next_slot(&mut tx, self.backend(), channel).await?;
        let mut n = want;
        if let Some(cap) = limits.concurrency {
            let held = held_by_others(&mut tx, channel, worker, now / 1000).await?;
            n = n.min(cap - held).max(0);
        }
        let interval = limits.interval_us.unwrap_or(0);
        // A lead puts back the slots of a rate, never a lease's start.
        let lead = if interval > 0 {
            limits.lead_us.max(0)
        } else {
            0
        };
        if interval > 0 && next > now + lead + SLOT_HORIZON_US {
            tx.commit().await?;
            return Ok(Slots {
                n: 0,
                wait_us: next - (now + lead + SLOT_HORIZON_US),
                interval_us: interval,
                end_us: next,
            });
        }
        let start = next.max(now + lead);
        if n > 0 && interval > 0 {
            sqlx::query("UPDATE channel_slots SET next_us = $2 WHERE channel = $1")
                .bind(channel)
                .bind(start + n * interval)
                .execute(&mut *tx)
                .await?;
        }
        let wait_us = if interval > 0 || next > now {
            start - now
        } else {
            0
        };
        if n > 0 && limits.concurrency.is_some() {
            let until = (now + wait_us + n * interval) / 1000 + lease_ms;
            hold_lease(&mut tx, channel, worker, n, until).await?;
        }
        tx.commit().await?;
        // The wait from now, not from the reservation's start: its commit
        // (a two-phase commit on a cluster) may take longer than a slot,
        // and a worker that counted from the start would send early, into
        // the slots of the worker before it. Below zero when the first
        // slots went by meanwhile: the worker does not send those late.
        let wait_us = if n > 0 && interval > 0 {
            let mut conn = self.pool.acquire().await?;
            start - crate::store::db_clock_ms(&mut conn, self.backend()).await? * 1000
        } else {
            wait_us
        };
        Ok(Slots {
            n,
            wait_us,
            interval_us: interval,
            end_us: start + n * interval,
        })
    }

    /// Gives back what a worker reserved and did not use: its lease, and
    /// the slots it did not fill where nobody reserved after them.
    pub async fn release_flow(
        &self,
        channel: &str,
        worker: &str,
        grant: Slots,
        used: i64,
    ) -> Result<()> {
        let unused = grant.n - used;
        let mut tx = self.begin_background_write().await?;
        sqlx::query("DELETE FROM channel_leases WHERE channel = $1 AND worker = $2")
            .bind(channel)
            .bind(worker)
            .execute(&mut *tx)
            .await?;
        if unused > 0 && grant.interval_us > 0 {
            // Only when ours are the last: slots another worker reserved
            // after ours stay where they are.
            sqlx::query(
                "UPDATE channel_slots SET next_us = next_us - $2 WHERE channel = $1 AND next_us = $3",
            )
            .bind(channel)
            .bind(unused * grant.interval_us)
            .bind(grant.end_us)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A receiver's `Retry-After`: no slot of the channel starts before
    /// `after_ms` from now, for any worker.
    pub async fn hold_flow(&self, channel: &str, after_ms: i64) -> Result<()> {
        let mut tx = self.begin_background_write().await?;
        // The clock read first: on a cluster a write to a table on every
        // node takes no clock inside a CASE.
        let now = crate::store::db_clock_ms(&mut tx, self.backend()).await? * 1000;
        sqlx::query(
            "INSERT INTO channel_slots (channel, next_us) VALUES ($1, $2) \
             ON CONFLICT (channel) DO UPDATE SET next_us = CASE \
             WHEN channel_slots.next_us > $2 THEN channel_slots.next_us ELSE $2 END",
        )
        .bind(channel)
        .bind(now + after_ms * 1000)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// When the channel's next slot starts, from now, in microseconds (0:
    /// now); for the console and tests.
    pub async fn flow_wait_us(&self, channel: &str) -> Result<i64> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT next_us - {} AS wait FROM channel_slots WHERE channel = $1",
            now_us(self.backend())
        )))
        .bind(channel)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => r.try_get::<i64, _>("wait")?.max(0),
            None => 0,
        })
    }
}
