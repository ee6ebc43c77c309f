//! The demo's channels: two webhook receivers it runs itself (an email,
//! SMS and push provider, and a CRM), a channels file pointing at them, and
//! the real delivery workers. A few minutes in, the CRM starts answering
//! 503, so the console has a failing channel to show and the kill switch
//! something to act on.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::receiver::{Answer, Receiver};
use crate::delivery::{self, Channels, Options};
use crate::store::Store;

pub struct DemoChannels {
    pub provider: Receiver,
    pub crm: Receiver,
    pub channels: Channels,
    /// The channels file as the demo wrote it (shown in the README's tour).
    pub text: String,
    crm_fails_at: Option<Instant>,
    /// One client for every round: connections to the receivers are reused.
    http: reqwest::Client,
}

impl DemoChannels {
    pub async fn start() -> anyhow::Result<DemoChannels> {
        let provider = Receiver::start_with(Answer::Status(202), false).await?;
        let crm = Receiver::start_with(Answer::Status(200), false).await?;
        let text = format!(
            "# The demo's channels: receivers the demo runs on 127.0.0.1.\n\
             [channels.email]\nkind = \"webhook\"\nurl = \"{p}\"\ntimeout = \"2s\"\n\n\
             [channels.sms]\nkind = \"webhook\"\nurl = \"{s}\"\ntimeout = \"2s\"\n\n\
             [channels.push]\nkind = \"webhook\"\nurl = \"{q}\"\ntimeout = \"2s\"\n\n\
             [channels.\"webhook:crm\"]\nkind = \"webhook\"\nurl = \"{c}\"\ntimeout = \"2s\"\nmax_attempts = 4\n",
            p = provider.url("email"),
            s = provider.url("sms"),
            q = provider.url("push"),
            c = crm.url("hook"),
        );
        let channels = Channels::parse(Path::new("demo-channels.toml"), &text, &|_| None)
            .map_err(|e| anyhow::anyhow!(e))?;
        Ok(DemoChannels {
            provider,
            crm,
            channels,
            text,
            crm_fails_at: None,
            http: delivery::send::http_client(),
        })
    }

    /// The CRM answers 503 from `after` from now on.
    pub fn fail_crm_after(&mut self, after: Duration) {
        self.crm_fails_at = Some(Instant::now() + after);
    }

    /// One delivery round through the real workers: what is due now,
    /// stamped at the simulated time `at`.
    pub async fn deliver(
        &self,
        store: &Store,
        batch: i64,
        at: crate::domain::Millis,
    ) -> anyhow::Result<delivery::Report> {
        if self.crm_fails_at.is_some_and(|t| Instant::now() >= t) {
            self.crm.set_answer(Answer::Status(503));
        }
        let options = Options {
            workers: 2,
            once: true,
            batch,
            at: Some(at),
            ..Options::default()
        };
        let (_tx, rx) = watch::channel(false);
        delivery::deliver_with(&self.http, store, &self.channels, &options, rx).await
    }
}
