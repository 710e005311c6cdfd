fn main() -> std::process::ExitCode {
    kycrules::cli::run()
}
