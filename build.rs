// The migrations are embedded by `sqlx::migrate!`: an edited or added
// migration file must rebuild the crate.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
