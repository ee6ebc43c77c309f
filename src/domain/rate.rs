//! A send rate: `200/s` or `12000/min`, as a channels file or an
//! operator's `journeyctl rate` writes it.

use std::time::Duration;

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

impl std::fmt::Display for Rate {
    /// As it was written: `200/s`, `12000/min`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = if self.window >= Duration::from_secs(60) {
            "min"
        } else {
            "s"
        };
        write!(f, "{}/{unit}", self.count)
    }
}

impl Rate {
    /// The window in seconds (1 or 60), as the store keeps it.
    pub fn window_secs(self) -> i64 {
        self.window.as_secs() as i64
    }

    /// A rate as the store keeps it; `None` for a window other than a
    /// second or a minute, or a count out of bounds.
    pub fn from_parts(count: i64, window_secs: i64) -> Option<Rate> {
        let window = match window_secs {
            1 | 60 => Duration::from_secs(window_secs as u64),
            _ => return None,
        };
        (1..=1_000_000)
            .contains(&count)
            .then_some(Rate { count, window })
    }

    /// Half as many sends (at least one), or twice as many (at most
    /// 1,000,000), in the same window.
    pub fn halved(self) -> Rate {
        Rate {
            count: (self.count / 2).max(1),
            ..self
        }
    }

    pub fn doubled(self) -> Rate {
        Rate {
            count: (self.count * 2).min(1_000_000),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_reads_back_as_written() {
        for text in ["200/s", "12000/min", "1/s"] {
            assert_eq!(Rate::parse(text).unwrap().to_string(), text);
        }
        let r = Rate::parse("200/s").unwrap();
        assert_eq!(Rate::from_parts(r.count, r.window_secs()), Some(r));
        assert_eq!(Rate::from_parts(5, 3600), None);
        assert_eq!(r.halved().to_string(), "100/s");
        assert_eq!(r.doubled().to_string(), "400/s");
        assert_eq!(Rate::parse("1/s").unwrap().halved().to_string(), "1/s");
    }
}
