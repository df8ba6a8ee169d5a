//! Imports run one way (`chatbell_testkit::layering`) in the test kit, and in the crates below
//! it, which cannot use it for a test of their own without a circle of crates: the simulator
//! and the protocol are read here, by path.

use chatbell_testkit::layering::assert_one_way;

/// A crate beside this one.
fn crate_dir(name: &str) -> String {
    format!("{}/../{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_test_kit_runs_one_way() {
    assert_one_way(env!("CARGO_MANIFEST_DIR"), ("desktop", "webdriver"));
}

#[test]
fn the_simulator_runs_one_way() {
    assert_one_way(&crate_dir("chatbell-sim"), ("client", "hub"));
}

#[test]
fn the_protocol_runs_one_way() {
    assert_one_way(&crate_dir("chatbell-protocol"), ("parse", "event"));
}
