//! Imports run one way in the project's tasks (`chatbell_testkit::layering`): the tasks above
//! the machine's setup they check.

#[test]
fn no_module_uses_one_that_uses_it_back() {
    chatbell_testkit::layering::assert_one_way(env!("CARGO_MANIFEST_DIR"), ("tasks", "setup"));
}
