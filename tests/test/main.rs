//! helix's one integration-test binary: each module is a scenario area; `Test` is the builder
//! that makes a temp recipe dir, runs the real `helix` binary and checks what it printed.

mod builder;
mod guard;
mod host;
