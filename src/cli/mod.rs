//! The subcommands of the `remul` binary that have grown past a few lines.

pub mod bench;
pub mod config;
pub mod data;
pub mod plot;
pub mod train;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar over `len` items of `unit`, prefixed with `what`.
pub fn progress_bar(len: u64, what: &str, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{what} [{{bar:30}}] {{pos}}/{{len}} {unit} {{per_sec}} eta {{eta}}"
        ))
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}
