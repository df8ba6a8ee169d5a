//! Imports run one way along the engine's data path (`chatbell_testkit::layering`).

#[test]
fn no_module_uses_one_that_uses_it_back() {
    chatbell_testkit::layering::assert_one_way(env!("CARGO_MANIFEST_DIR"), ("writer", "store"));
}
