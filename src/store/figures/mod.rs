//! The figures every face reads, written where the rows they count are
//! written: the version rows' counters, the minute rows of the trends,
//! and on a cluster each bucket's share of them, folded into the version
//! rows a second at a time.

pub(in crate::store) mod aside;
pub(in crate::store) mod counters;
pub(in crate::store) mod fold;
pub mod minutes;
pub(in crate::store) mod share_key;
pub(crate) mod shares;
pub(in crate::store) mod verdicts;
