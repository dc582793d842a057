//! Rebuild when a built-in recipe or stdlib module changes: they are embedded with
//! `include_dir!`, which cargo cannot track on stable by itself.

fn main() {
    println!("cargo:rerun-if-changed=recipes");
    println!("cargo:rerun-if-changed=stdlib");
}
