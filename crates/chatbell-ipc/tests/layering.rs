//! Imports run one way in the IPC crate (`chatbell_testkit::layering`): the socket carries the
//! wire's messages, which carry the contract's commands and events.

#[test]
fn no_module_uses_one_that_uses_it_back() {
    chatbell_testkit::layering::assert_one_way(env!("CARGO_MANIFEST_DIR"), ("socket", "wire"));
}
