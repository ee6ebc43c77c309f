//! Approving a request (four eyes): the request recorded by
//! `lifecycle/approvals.rs` is carried out by another operator through
//! the same call as its command, as them, approved in the action's own
//! transaction.

use crate::domain::Millis;
use crate::domain::schedule::Intent;
use crate::store::{Actor, Approval, Error, Request, Result, Store};

impl Store {
    /// Carries request `id` out as `actor`, through the same call as its
    /// command: refused for the operator who asked, and once approved or
    /// expired. The request is approved in the action's own transaction.
    pub async fn approve(&self, id: i64, actor: &Actor, now: Millis) -> Result<Request> {
        actor.refuse_control()?;
        let request = self.request_one(id, now).await?;
        if request.state != "open" {
            return Err(Error::Invalid(format!(
                "request {id} ({}) is {}: nothing to approve",
                request.what, request.state
            )));
        }
        // Who asked is the login on PostgreSQL (whatever name it gave),
        // the operator's name on SQLite, which has no logins.
        let (me, asker) = if self.backend().has_logins() {
            let me: String = sqlx::query_scalar("SELECT CAST(session_user AS TEXT)")
                .fetch_one(&self.pool)
                .await?;
            let asker: Option<String> =
                sqlx::query_scalar("SELECT asked_login FROM approval_requests WHERE id = $1")
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?;
            (me, asker.unwrap_or_default())
        } else {
            (actor.name.clone(), request.asked_by.clone())
        };
        if me == asker {
            return Err(Error::Invalid(format!(
                "four eyes: {me} asked for request {id} and cannot approve it; another {} must",
                if self.backend().has_logins() {
                    "login"
                } else {
                    "operator"
                }
            )));
        }
        let kept: String = sqlx::query_scalar("SELECT intent FROM approval_requests WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        let intent: Intent = serde_json::from_str(&kept).map_err(|e| Error::Corrupt {
            what: format!("approval request {id}: {e}"),
        })?;
        let approver = Actor {
            approval: Some(Approval {
                id,
                asked_by: request.asked_by.clone(),
            }),
            ..actor.clone()
        };
        self.as_commanded(&intent, &approver, now).await?;
        self.request_one(id, now).await
    }
}
