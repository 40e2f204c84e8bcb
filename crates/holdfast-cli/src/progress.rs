//! The copy's progress bar on stderr (only on a terminal): items copied, items/s and an ETA
//! from DescribeTable's approximate item count.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use holdfast_dynamo::copy::CopyProgress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A running bar; [`CopyBar::finish`] clears it.
pub struct CopyBar {
    bar: Option<ProgressBar>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl CopyBar {
    /// Starts a bar fed by `progress`, if stderr is a terminal.
    pub fn start(progress: Arc<CopyProgress>) -> CopyBar {
        if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            return CopyBar {
                bar: None,
                ticker: None,
            };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {human_pos} items read  {per_sec}  ETA {eta}  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let handle = bar.clone();
        let ticker = tokio::spawn(async move {
            loop {
                let approx = progress.approximate_items.load(Ordering::Relaxed);
                if approx > 0 && handle.length().is_none() {
                    handle.set_length(approx);
                }
                handle.set_position(progress.read.load(Ordering::Relaxed));
                handle.set_message(format!(
                    "{} written, segments {}/{}",
                    progress.written.written.load(Ordering::Relaxed),
                    progress.segments_done.load(Ordering::Relaxed),
                    progress.total_segments.load(Ordering::Relaxed)
                ));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        CopyBar {
            bar: Some(bar),
            ticker: Some(ticker),
        }
    }

    /// Stops and clears the bar.
    pub fn finish(self) {
        if let Some(t) = self.ticker {
            t.abort();
        }
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}
