//! `remul bench`: the adapter's ceilings, the kernel suite and the model suite, as a table and
//! as JSON; `--compare` puts two reports side by side.

use std::path::PathBuf;

use anyhow::{Context, Result};
use remul::bench::{self, BenchReport, SuiteOptions};
use remul::{Engine, EngineOptions};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Measure the adapter's ceilings (peak FMA rate, copy bandwidth).
    #[arg(long)]
    ceilings: bool,
    /// Time every kernel family (implies --ceilings, for the percentages).
    #[arg(long)]
    kernels: bool,
    /// Time whole models: training throughput and inference latency.
    #[arg(long)]
    models: bool,
    /// Tiny shapes and short measurements: checks that everything runs, measures nothing.
    #[arg(long)]
    quick: bool,
    /// Also write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Print two reports side by side instead of measuring (e.g. remul's and PyTorch's).
    #[arg(long, num_args = 2, value_names = ["A", "B"])]
    compare: Option<Vec<PathBuf>>,
}

pub fn run(args: BenchArgs) -> Result<()> {
    if let Some(paths) = &args.compare {
        let a = bench::read_report(&paths[0])?;
        let b = bench::read_report(&paths[1])?;
        compare(&a, &b);
        return Ok(());
    }
    let all = !(args.ceilings || args.kernels || args.models);
    let options = if args.quick {
        SuiteOptions::quick()
    } else {
        SuiteOptions::standard()
    };
    let engine = Engine::new(EngineOptions {
        autotune: true,
        ..EngineOptions::default()
    })?;
    let mut report = BenchReport::new(&engine);
    let timer = bench::Timer::new(&engine);
    report.method = Some(timer.method());
    println!(
        "{} on {} ({}, {}, {}); kernel times by {:?}",
        report.engine,
        report.adapter.name,
        report.adapter.backend,
        report.adapter.device_type,
        report.adapter.driver,
        timer.method()
    );
    if all || args.ceilings || args.kernels {
        let c = bench::ceilings(&engine, options)?;
        println!(
            "ceilings: FMA {:.1} GFLOP/s, copy {:.1} GB/s",
            c.fma_gflops, c.copy_gbps
        );
        report.ceilings = Some(c);
    }
    if all || args.kernels {
        let bar = super::progress_bar(0, "kernels", "");
        report.kernels = bench::kernels(&engine, options, report.ceilings, &mut |name| {
            bar.set_message(name.to_string());
            bar.inc(1);
        })?;
        bar.finish_and_clear();
        print_kernels(&report);
    }
    if all || args.models {
        let bar = super::progress_bar(0, "models", "");
        report.models = bench::models(&engine, options, &mut |name| {
            bar.set_message(name.to_string());
            bar.inc(1);
        })?;
        bar.finish_and_clear();
        print_models(&report);
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report)? + "\n";
        remul::train::checkpoint::write_atomic(path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".to_string(), |v| format!("{v:.digits$}"))
}

fn print_kernels(r: &BenchReport) {
    println!(
        "\n{:<34} {:<28} {:>10} {:>9} {:>9} {:>8}",
        "kernel", "shape", "ms", "GFLOP/s", "GB/s", "% ceil"
    );
    for k in &r.kernels {
        println!(
            "{:<34} {:<28} {:>10.4} {:>9} {:>9} {:>8}",
            k.name,
            k.shape,
            k.ms,
            opt(k.gflops, 2),
            opt(k.gbps, 2),
            opt(k.percent_of_ceiling, 1)
        );
    }
}

fn print_models(r: &BenchReport) {
    println!(
        "\n{:<8} {:<8} {:>6} {:>7} {:>7} {:>16} {:>14}",
        "model", "training", "batch", "hidden", "layers", "train graphs/s", "inference ms"
    );
    for m in &r.models {
        println!(
            "{:<8} {:<8} {:>6} {:>7} {:>7} {:>16.1} {:>14.3}",
            m.model, m.objective, m.batch, m.hidden, m.layers, m.train_graphs_per_s, m.inference_ms
        );
    }
}

fn compare(a: &BenchReport, b: &BenchReport) {
    println!(
        "A: {} on {} ({})",
        a.engine, a.adapter.name, a.adapter.backend
    );
    println!(
        "B: {} on {} ({})",
        b.engine, b.adapter.name, b.adapter.backend
    );
    if let (Some(ca), Some(cb)) = (a.ceilings, b.ceilings) {
        println!(
            "ceilings: FMA {:.1} vs {:.1} GFLOP/s, copy {:.1} vs {:.1} GB/s",
            ca.fma_gflops, cb.fma_gflops, ca.copy_gbps, cb.copy_gbps
        );
    }
    let shared: Vec<_> = a
        .kernels
        .iter()
        .filter_map(|ka| {
            b.kernels
                .iter()
                .find(|kb| kb.name == ka.name)
                .map(|kb| (ka, kb))
        })
        .collect();
    if !shared.is_empty() {
        println!(
            "\n{:<34} {:>11} {:>11} {:>9}",
            "kernel", "A ms", "B ms", "B/A"
        );
        for (ka, kb) in shared {
            println!(
                "{:<34} {:>11.4} {:>11.4} {:>9.2}",
                ka.name,
                ka.ms,
                kb.ms,
                kb.ms / ka.ms
            );
        }
    }
    println!(
        "\n{:<8} {:<8} {:>14} {:>14} {:>8} {:>12} {:>12}",
        "model", "training", "A graphs/s", "B graphs/s", "A/B", "A infer ms", "B infer ms"
    );
    for ma in &a.models {
        let Some(mb) = b
            .models
            .iter()
            .find(|mb| mb.model == ma.model && mb.objective == ma.objective)
        else {
            continue;
        };
        println!(
            "{:<8} {:<8} {:>14.1} {:>14.1} {:>8.2} {:>12.3} {:>12.3}",
            ma.model,
            ma.objective,
            ma.train_graphs_per_s,
            mb.train_graphs_per_s,
            ma.train_graphs_per_s / mb.train_graphs_per_s,
            ma.inference_ms,
            mb.inference_ms
        );
    }
}
