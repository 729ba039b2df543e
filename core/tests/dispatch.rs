//! The instruction set the batch kernels run on. `.ci/run` sets `VATIC_EXPECT_LANES` to the one
//! a build and CPU must pick (`avx2` with the `dispatch` feature on an x86-64 CPU that has it,
//! `portable` without the feature or with `VATIC_DISPATCH=portable`), so that a test run meant to exercise the
//! dispatched kernels cannot silently take the portable ones (the other tests check the bits).

#[test]
fn batch_lanes_are_the_expected_ones() {
    let got = vatic::kernels::batch_lanes();
    match std::env::var("VATIC_EXPECT_LANES") {
        Ok(want) => {
            let ok = want.split(',').any(|w| w == got);
            assert!(ok, "batch kernels on {got}, expected {want}");
        }
        Err(_) => assert!(["avx2", "portable"].contains(&got), "{got}"),
    }
    if cfg!(not(feature = "dispatch")) {
        assert_eq!(got, "portable");
    }
}
