//! The CLI's text tables: `list` and `audit`.

use crate::domain::time::{ago, short};
use crate::present::{ab_label, shown, status_label};
use crate::store::{AuditEntry, VersionSummary};

pub fn list_table(list: &[VersionSummary], now: i64) -> String {
    let mut out = format!(
        "{:<24} {:>3} {:<22} {:>8} {:>7} {:>9} {:>7} {:>7} {:>6} {:<16} {:<16} {}\n",
        "JOURNEY",
        "VER",
        "STATUS",
        "ENTERED",
        "ACTIVE",
        "COMPLETED",
        "EXITED",
        "STOPPED",
        "CONV",
        "A/B",
        "ENTRY END",
        "LAST ACTIVITY"
    );
    for v in list {
        let ab = ab_label(v.ab.as_ref());
        out.push_str(&format!(
            "{:<24} {:>3} {:<22} {:>8} {:>7} {:>9} {:>7} {:>7} {:>6} {:<16} {:<16} {}\n",
            crate::present::escaped(&v.journey),
            v.version,
            match &v.paused {
                Some(p) => format!(
                    "{}, paused until {}",
                    status_label(shown(v)),
                    short(p.until_ms)
                ),
                None => status_label(shown(v)),
            },
            v.counts.entered,
            v.counts.active,
            v.counts.completed,
            v.counts.exited,
            v.counts.stopped,
            v.conversion_rate
                .map_or("-".to_string(), |r| format!("{:.1}%", r * 100.0)),
            ab,
            v.entry_end_ms.map_or("-".to_string(), short),
            v.last_activity_ms.map_or("-".to_string(), |t| ago(now, t)),
        ));
        if let Some(why) = &v.unreadable {
            out.push_str(&format!(
                "    ⚠ unreadable: {}\n",
                crate::present::escaped(why)
            ));
        }
    }
    out
}

/// One audit row as a line of text.
pub fn audit_line(e: &AuditEntry) -> String {
    let line = format!(
        "{}{}  {:<10} {:<12} {:<8} {} v{}  {} -> {}  active {}{}{}",
        e.at,
        e.recorded_apart()
            .map(|t| format!(" (recorded {t})"))
            .unwrap_or_default(),
        e.who(),
        e.host,
        e.action,
        e.journey,
        e.version.unwrap_or(0),
        e.from.as_deref().unwrap_or("-"),
        e.to.as_deref().unwrap_or("-"),
        crate::present::thousands(e.affected_active),
        crate::present::audit_messages(e)
            .map(|m| format!("  messages {m}"))
            .unwrap_or_default(),
        e.reason
            .as_ref()
            .map(|r| format!("  \"{r}\""))
            .unwrap_or_default()
    );
    crate::present::escaped(&line).into_owned()
}
