//! A channel's flow control as its file states it (`rate = "200/s"`,
//! `concurrency = 8`), and a receiver's `Retry-After`.

use std::time::Duration;

/// A channel's limits: at most `per_window` sends every `window`, and at
/// most `concurrency` in flight, over every worker of the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flow {
    pub rate: Option<Rate>,
    pub concurrency: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: i64,
    pub window: Duration,
}

impl Rate {
    /// `200/s` or `12000/min`.
    pub fn parse(text: &str) -> Result<Rate, String> {
        let bad = || format!("{text:?} is not a rate: write N/s or N/min, for example \"200/s\"");
        let (count, unit) = text.trim().split_once('/').ok_or_else(bad)?;
        let count: i64 = count.trim().replace('_', "").parse().map_err(|_| bad())?;
        let window = match unit.trim() {
            "s" => Duration::from_secs(1),
            "min" => Duration::from_secs(60),
            _ => return Err(bad()),
        };
        if !(1..=1_000_000).contains(&count) {
            return Err(format!("{text:?}: the count must be 1 to 1,000,000"));
        }
        Ok(Rate { count, window })
    }

    /// Microseconds between two sends.
    pub fn interval_us(self) -> i64 {
        (self.window.as_micros() as i64 / self.count).max(1)
    }

    /// How many sends a worker reserves at once: a quarter second's
    /// worth (at least one), so no worker holds slots far ahead of the
    /// others, and a stop waits little for a batch still waiting for its
    /// slots.
    pub fn burst(self) -> i64 {
        (250_000 / self.interval_us()).max(1)
    }
}

impl Flow {
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
