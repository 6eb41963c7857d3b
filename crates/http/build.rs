//! Re-embeds the web UI when `frontend/dist` changes: without this, a server built before
//! `npm run build` keeps serving "The web UI has not been built" after the UI is built, because
//! nothing tells cargo that the embedded folder is an input of this crate.

fn main() {
    println!("cargo:rerun-if-changed=../../frontend/dist");
    println!("cargo:rerun-if-changed=build.rs");
}
