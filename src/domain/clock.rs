//! Simulated time for the demo and its screenshots: the console shows
//! activity times on it, so it lives with the other rules of time.

use super::time::{Millis, now_millis};

/// Simulated time: starts at the wall clock and runs `speed` times faster.
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

    pub fn now(&self) -> Millis {
        self.at_wall(now_millis())
    }

    /// The simulated time at a wall-clock time.
    pub fn at_wall(&self, wall: Millis) -> Millis {
        self.sim_start + ((wall - self.wall_start).max(0) as f64 * self.speed) as Millis
    }
}
