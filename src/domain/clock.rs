//! The demo's two times. Its campaign runs in simulated time, `speed`
//! times faster than the wall clock: traffic, waits and reactions are
//! planned on it. What it writes to a store is on the wall clock, as
//! everything a store holds is: a simulated moment maps to the wall
//! moment it happens at, and the demo's waits are `speed` times shorter
//! in the definitions it publishes. Holds, audit rows, trends and ages
//! read the same in the demo's console as in any other.

use super::time::{Millis, now_millis};

/// Simulated time: starts at `sim_start` on the wall clock's now and runs
/// `speed` times faster.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    wall_start: Millis,
    pub sim_start: Millis,
    pub speed: f64,
}

impl SimClock {
    pub fn new(sim_start: Millis, speed: f64) -> SimClock {
        SimClock {
            wall_start: now_millis(),
            sim_start,
            speed,
        }
    }

    /// The simulated time now.
    pub fn now(&self) -> Millis {
        self.at_wall(now_millis())
    }

    /// The simulated time at a wall-clock time.
    pub fn at_wall(&self, wall: Millis) -> Millis {
        self.sim_start + ((wall - self.wall_start).max(0) as f64 * self.speed) as Millis
    }

    /// The wall-clock time a simulated moment happens at: what the store
    /// is told.
    pub fn to_wall(&self, sim: Millis) -> Millis {
        self.wall_start + ((sim - self.sim_start) as f64 / self.speed).round() as Millis
    }

    /// A simulated span as it passes on the wall clock.
    pub fn span_to_wall(&self, span: Millis) -> Millis {
        ((span as f64 / self.speed).round() as Millis).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::SimClock;

    #[test]
    fn simulated_moments_map_to_the_wall_clock() {
        let c = SimClock {
            wall_start: 1_000_000,
            sim_start: 1_000_000,
            speed: 60.0,
        };
        // An hour of simulated time passes in a wall minute, either side.
        assert_eq!(c.to_wall(1_000_000 + 3_600_000), 1_000_000 + 60_000);
        assert_eq!(c.to_wall(1_000_000 - 3_600_000), 1_000_000 - 60_000);
        assert_eq!(c.at_wall(1_000_000 + 60_000), 1_000_000 + 3_600_000);
        assert_eq!(c.span_to_wall(2 * 86_400_000), 48 * 60_000);
    }
}
