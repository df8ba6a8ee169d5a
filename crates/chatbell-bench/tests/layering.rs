//! Imports run one way in the benchmarks (`chatbell_testkit::layering`): each benchmark above
//! the statistics and the report it fills.

#[test]
fn no_module_uses_one_that_uses_it_back() {
    chatbell_testkit::layering::assert_one_way(env!("CARGO_MANIFEST_DIR"), ("fanout", "stats"));
}
