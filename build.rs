// The migrations are embedded by `sqlx::migrate!`: an edited or added
// migration file must rebuild the crate.
//
// The tests' servers: where the environment names none, the tests of that
// backend are marked ignored ("skipped: set ..."), so a run counts them
// as skipped rather than passed.
fn main() {
    println!("cargo::rerun-if-changed=migrations");
    for (var, cfg) in [
        ("JOURNEYCTL_TEST_POSTGRES_URL", "journeyctl_no_postgres"),
        ("JOURNEYCTL_TEST_CITUS_URL", "journeyctl_no_citus"),
    ] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        println!("cargo::rerun-if-env-changed={var}");
        if std::env::var_os(var).is_none() {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
