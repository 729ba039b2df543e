//! vatic's certificates against the independent float64 reference in
//! `tests/certify/generate.py` (plain numpy, exact arithmetic, the same relaxations): on every
//! committed region, every margin bound is at most the reference's (vatic's bounds also cover
//! the f32 network's rounding, so they may only be lower) and within a small tolerance of it
//! (so a loose or wrong relaxation, or a missing CROWN layer, is caught).

use vatic::attack::{Clip, Norm};
use vatic::certify::{self, Bound};
use vatic::{Activation, Network};

#[test]
fn margins_match_the_float64_reference() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/certify/fixtures/certify.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let fx: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut checked = 0;
    let mut worst = 0.0f64;
    for case in fx["cases"].as_array().unwrap() {
        let widths: Vec<usize> = case["widths"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let params: Vec<f32> = case["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let act = match case["activation"].as_str().unwrap() {
            "relu" => Activation::Relu,
            _ => Activation::Tanh,
        };
        let net = vatic_host::models::Net::new(widths.clone(), params, act).unwrap();
        let mut ws = vec![0.0; certify::workspace_len(&net.shape())];
        let classes = net.width(net.depth());
        for s in case["samples"].as_array().unwrap() {
            let x: Vec<f32> = s["x"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            let y = s["y"].as_u64().unwrap() as usize;
            let eps = s["eps"].as_f64().unwrap() as f32;
            let norm = if s["norm"] == "l2" {
                Norm::L2
            } else {
                Norm::LInf
            };
            let clip = s["clip"].as_array().map(|c| Clip {
                min: c[0].as_f64().unwrap() as f32,
                max: c[1].as_f64().unwrap() as f32,
            });
            for (bound, key) in [(Bound::Ibp, "ibp"), (Bound::Crown, "crown")] {
                let mut m = vec![0.0; classes];
                certify::margins(&net, &x, y, eps, norm, clip, bound, &mut m, &mut ws).unwrap();
                for (j, want) in s[key].as_array().unwrap().iter().enumerate() {
                    let Some(want) = want.as_f64() else {
                        assert_eq!(j, y);
                        continue;
                    };
                    let got = m[j];
                    let tol = 1e-4 * (1.0 + want.abs());
                    assert!(
                        got <= want + 1e-9 && want - got <= tol,
                        "{widths:?} {act:?} {key} {norm:?} clip {clip:?} eps {eps} margin {j}: \
                         vatic {got} vs reference {want}"
                    );
                    worst = worst.max(want - got);
                    checked += 1;
                }
            }
        }
    }
    eprintln!("{checked} margins checked, largest gap below the reference {worst:.3e}");
    assert!(checked > 500, "{checked}");
}
