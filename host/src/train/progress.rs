//! `vatic train`'s progress bar (indicatif; hidden when stderr is not a terminal), one step
//! an epoch.

use super::EpochLog;
use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` epochs, or a hidden one when `quiet`.
pub fn bar(len: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{prefix}[{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
    {
        bar.set_style(style);
    }
    bar
}

/// Advances the bar by one epoch and shows the latest loss and accuracies.
pub fn update(bar: &ProgressBar, log: &EpochLog) {
    bar.inc(1);
    if log.train_accuracy.is_finite() {
        let test = log
            .test_accuracy
            .map(|a| format!(" test acc {:.1} %", 100.0 * a))
            .unwrap_or_default();
        bar.set_message(format!(
            "loss {:.4} train acc {:.1} %{test}",
            log.loss,
            100.0 * log.train_accuracy
        ));
    }
}
