//! The entry guardrail: a version whose definition says
//! `pause_when_entries = { per_minute = 5000 }` is paused, as an operator
//! would, when an ingest takes it over that many entries in one minute (a
//! wrong audience floods entries). Checked after each ingest, from the
//! trend minutes the ingest itself wrote.

use sqlx::Row;

use crate::domain::Millis;
use crate::store::figures::minutes::minute_of;
use crate::store::{Result, Store};

impl Store {
    /// Pauses each live version with the rule whose entries in a minute
    /// from `from` to `to` went over it; the versions it paused, with why.
    pub(crate) async fn guard_entries(
        &self,
        from: Millis,
        to: Millis,
        now: Millis,
    ) -> Result<Vec<String>> {
        let guarded = sqlx::query(
            "SELECT v.id, j.name AS journey, v.number, v.definition FROM versions v \
             JOIN journeys j ON j.id = v.journey_id WHERE v.status = 'live' \
             AND v.paused_at IS NULL AND v.definition LIKE '%pause_when_entries%'",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &guarded {
            let (def, unreadable) =
                crate::store::read_definition(&r.try_get::<String, _>("definition")?);
            let Some(rule) = def.pause_when_entries.filter(|_| unreadable.is_none()) else {
                continue;
            };
            let most: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(MAX(entered), 0) AS BIGINT) FROM version_minutes \
                 WHERE version_id = $1 AND minute >= $2 AND minute <= $3",
            )
            .bind(r.try_get::<i64, _>("id")?)
            .bind(minute_of(from))
            .bind(minute_of(to))
            .fetch_one(&self.pool)
            .await?;
            if most <= rule.per_minute {
                continue;
            }
            let journey: String = r.try_get("journey")?;
            let number: i64 = r.try_get("number")?;
            let reason = format!(
                "{} entries in one minute, over {}/min (pause_when_entries)",
                crate::domain::text::thousands(most),
                crate::domain::text::thousands(rule.per_minute)
            );
            if self
                .pause_by_guardrail(&journey, number, &reason, now)
                .await?
            {
                out.push(format!("{journey} v{number}: {reason}"));
            }
        }
        Ok(out)
    }
}
