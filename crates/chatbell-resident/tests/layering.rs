//! Imports run one way in the resident (`chatbell_testkit::layering`): its state
//! (`resident.rs`) below what acts on it, and what sets everything going (`lifecycle.rs`) on
//! top.

#[test]
fn no_module_uses_one_that_uses_it_back() {
    chatbell_testkit::layering::assert_one_way(env!("CARGO_MANIFEST_DIR"), ("switch", "session"));
}
