//! `cargo run --release -p bidkit-bench --example crypto [--quick] [--json]`: the
//! crypto benchmark without the CLI (same figures as `bidkit bench crypto`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = if args.iter().any(|a| a == "--quick") {
        bidkit_bench::CryptoOptions::quick()
    } else {
        bidkit_bench::CryptoOptions::standard()
    };
    let report = bidkit_bench::crypto(&options)?;
    if args.iter().any(|a| a == "--json") {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    Ok(())
}
