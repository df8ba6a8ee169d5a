//! Imports run one way in the CLI (`chatbell_testkit::layering`): each command above the
//! output it prints through.

#[test]
fn no_module_uses_one_that_uses_it_back() {
    chatbell_testkit::layering::assert_one_way(env!("CARGO_MANIFEST_DIR"), ("listen", "output"));
}
