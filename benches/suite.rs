//! `cargo bench`: the kernel suite of `remul bench` (ceilings and every kernel family on the
//! models' shapes), printed as a table. `remul bench --json FILE` writes the same as JSON.

use remul::bench::{self, SuiteOptions};
use remul::{Engine, EngineOptions};

fn main() -> Result<(), remul::Error> {
    let engine = Engine::new(EngineOptions::default())?;
    let options = if std::env::args().any(|a| a == "--quick") {
        SuiteOptions::quick()
    } else {
        SuiteOptions::standard()
    };
    let c = bench::ceilings(&engine, options)?;
    println!(
        "{}: FMA {:.1} GFLOP/s, copy {:.1} GB/s",
        engine.adapter_info().name,
        c.fma_gflops,
        c.copy_gbps
    );
    for k in bench::kernels(&engine, options, Some(c), &mut |_| {})? {
        let pct = k.percent_of_ceiling.unwrap_or(0.0);
        println!("{:<34} {:>10.4} ms  {:>5.1}% of ceiling", k.name, k.ms, pct);
    }
    Ok(())
}
