//! One batch through a channel with a rate or a concurrency: the store
//! hands out the slots and leases, shared by every worker of the store.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::channels::Channel;
use super::send::Pace;
use super::worker::{Batch, LEASE_MARGIN, Report, Shared, send_claimed};
use crate::store::PendingVersion;

/// The longest a batch's slots are put back for its reservation and claim.
const MAX_LEAD_US: i64 = 500_000;

/// One batch through a channel with a rate or a concurrency: the store
/// grants the sends (slots in order, leases over every worker), the
/// messages go at their slots, and what was not used is given back.
pub(super) async fn send_limited(
    s: &Shared,
    token: &str,
    v: &PendingVersion,
    channel: &Channel,
    actions: &[String],
    report: &mut Report,
) -> anyhow::Result<usize> {
    let margin = (channel.timeout + LEASE_MARGIN).as_millis() as i64;
    let mut slots = reserve(s, token, channel, margin).await?;
    // Slots handed out far ahead by other workers: wait for them to run
    // down rather than queue behind them (a few times at most), then ask
    // again at the limits of that moment (a rate set live meanwhile
    // holds). A longer wait (a receiver's Retry-After) is left to the
    // next round.
    for _ in 0..8 {
        if slots.n > 0 || !(1..=250_000).contains(&slots.wait_us) {
            break;
        }
        tokio::time::sleep(Duration::from_micros(slots.wait_us as u64)).await;
        slots = reserve(s, token, channel, margin).await?;
    }
    if slots.n == 0 {
        return Ok(0);
    }
    let span_us = slots.wait_us.max(0) + slots.n * slots.interval_us;
    let batch = Batch {
        actions,
        limit: slots.n,
        lease_ms: span_us / 1000 + margin,
        pace: Some(Pace::from_wait(slots.wait_us, slots.interval_us)),
    };
    let sent = send_claimed(s, token, v, batch, report).await;
    let used = *sent.as_ref().unwrap_or(&0) as i64;
    s.store
        .release_flow(&channel.name, token, slots, used)
        .await?;
    sent
}

/// A reservation of slots of `channel` at the limits it follows now (a
/// quarter second's worth of its rate), its time kept as the next batch's
/// lead.
async fn reserve(
    s: &Shared,
    token: &str,
    channel: &Channel,
    margin: i64,
) -> anyhow::Result<crate::store::Slots> {
    let flow = s.flows.flow(channel);
    let want = flow
        .rate
        .map_or(s.options.batch, |r| r.burst().min(s.options.batch));
    let limits = crate::store::Limits {
        // A claim or reservation that once waited long (behind a stop's
        // lock) does not push every later batch back by as much.
        lead_us: (s.claim_us.load(Ordering::Relaxed) + s.reserve_us.load(Ordering::Relaxed))
            .min(MAX_LEAD_US),
        ..flow.limits()
    };
    let reserving = std::time::Instant::now();
    let slots = s
        .store
        .reserve_flow(&channel.name, token, want, limits, margin)
        .await?;
    s.reserve_us
        .store(reserving.elapsed().as_micros() as i64, Ordering::Relaxed);
    Ok(slots)
}
