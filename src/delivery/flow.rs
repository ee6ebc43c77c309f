//! A channel's flow control as its file states it (`rate = "200/s"`,
//! `concurrency = 8`), and a receiver's `Retry-After`.

use std::collections::HashMap;
use std::time::Duration;

pub use crate::domain::rate::Rate;

/// A channel's limits: at most `per_window` sends every `window`, and at
/// most `concurrency` in flight, over every worker of the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flow {
    pub rate: Option<Rate>,
    pub concurrency: Option<i64>,
}

impl Flow {
    /// The limits as the store keeps them (the file's, advertised).
    pub fn live(&self) -> crate::store::LiveLimits {
        crate::store::LiveLimits {
            rate: self.rate,
            concurrency: self.concurrency,
        }
    }

    /// This flow with what an operator set live in place of the file's.
    pub fn with(self, live: crate::store::LiveLimits) -> Flow {
        Flow {
            rate: live.rate.or(self.rate),
            concurrency: live.concurrency.or(self.concurrency),
        }
    }

    pub fn is_limited(&self) -> bool {
        self.rate.is_some() || self.concurrency.is_some()
    }

    pub fn limits(&self) -> crate::store::Limits {
        crate::store::Limits {
            interval_us: self.rate.map(Rate::interval_us),
            concurrency: self.concurrency,
            lead_us: 0,
        }
    }
}

/// How often a worker reads the limits set live: a change reaches every
/// worker within this, plus a quarter second of slots it already holds.
pub const LIVE_REFRESH: Duration = Duration::from_millis(100);

/// The channels' limits as the workers follow them: the file's, with those
/// an operator set live (`journeyctl rate`) in their place, read again at
/// most every [`LIVE_REFRESH`].
#[derive(Default)]
pub struct LiveFlows {
    read: std::sync::Mutex<(Option<std::time::Instant>, HashMap<String, Flow>)>,
}

impl LiveFlows {
    /// The limits `channel` follows now.
    pub fn flow(&self, channel: &super::Channel) -> Flow {
        let read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        read.1.get(&channel.name).copied().unwrap_or(channel.flow)
    }

    /// Reads the live limits again where the last read is older than
    /// [`LIVE_REFRESH`] (the workers' background task calls it that often);
    /// a store that does not answer keeps the last ones.
    pub async fn refresh(&self, store: &crate::store::Store, channels: &super::Channels) {
        {
            let read = self.read.lock().unwrap_or_else(|e| e.into_inner());
            if read.0.is_some_and(|at| at.elapsed() < LIVE_REFRESH) {
                return;
            }
        }
        let flows = match store.live_rates().await {
            Ok(rates) => Some(effective(channels, &rates)),
            Err(e) => {
                tracing::warn!("cannot read the live rates: {e}");
                None
            }
        };
        let mut read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        read.0 = Some(std::time::Instant::now());
        if let Some(f) = flows {
            read.1 = f;
        }
    }
}

/// Each channel's limits with the live ones of the actions routed to it
/// (`rates` newest first: where two actions of one channel have limits
/// set, the newest holds).
pub fn effective(
    channels: &super::Channels,
    rates: &[crate::store::LiveRate],
) -> HashMap<String, Flow> {
    let mut out = HashMap::new();
    for r in rates {
        if let Some(c) = channels.route(&r.action) {
            out.entry(c.name.clone())
                .or_insert_with(|| c.flow.with(r.limits));
        }
    }
    out
}

/// Longest `Retry-After` honoured: a receiver cannot park a channel for
/// longer than an hour.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// A `Retry-After` header: delay-seconds or an HTTP date, at most an hour.
pub fn retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    let after = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = httpdate::parse_http_date(value).ok()?;
            at.duration_since(now).unwrap_or_default()
        }
    };
    Some(after.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_written() {
        let r = Rate::parse("200/s").unwrap();
        assert_eq!((r.interval_us(), r.burst()), (5_000, 50));
        let r = Rate::parse("120/min").unwrap();
        assert_eq!((r.interval_us(), r.burst()), (500_000, 1));
        let r = Rate::parse("10/min").unwrap();
        assert_eq!(r.burst(), 1);
        for bad in ["200", "200/h", "x/s", "0/s", "-3/s"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_is_capped() {
        let now = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(retry_after("3", now), Some(Duration::from_secs(3)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(120));
        assert_eq!(retry_after(&date, now), Some(Duration::from_secs(120)));
        assert_eq!(retry_after("999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after("soon", now), None);
    }
}
