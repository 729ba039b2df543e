//! The host's network: one run-time [`Sequential`](vatic::Sequential) of any depth and widths.
//!
//! [`Model`] owns a `vatic::Sequential<Vec<usize>, Vec<f32>>` (the widths, one flat parameter
//! array in PyTorch `nn.Sequential` order, the hidden activation) and adds what the host needs
//! around it: constructors from widths, the default widths of each data set, parsing and
//! printing of shapes (`13-40-40-3`), and a workspace of the size the firmware and the
//! bit-equality tests use ([`Model::workspace`]). Every core function takes [`Model::net`].

use anyhow::{bail, ensure, Result};
use vatic::{Activation, Network, Rng, BLOCK};

/// The core's run-time network with host storage.
pub type Net = vatic::Sequential<Vec<usize>, Vec<f32>>;

/// A network of any shape: widths `[IN, H1, …, OUT]` (at least two, each ≥ 1) and parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    net: Net,
}

/// `[2, 100, 2]` as `"2-100-2"`.
pub fn format_widths(w: &[usize]) -> String {
    w.iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("-")
}

/// Parses widths written `"100-100-2"` (also `100x100x2` or `100,100,2`).
///
/// # Errors
///
/// When a part is not a positive integer; the message quotes the text.
pub fn parse_widths(s: &str) -> Result<Vec<usize>> {
    let widths = s
        .split(['-', 'x', ','])
        .map(|p| p.trim().parse::<usize>())
        .collect::<std::result::Result<Vec<_>, _>>();
    match widths {
        Ok(w) if w.iter().all(|&v| v > 0) => Ok(w),
        Ok(_) => bail!("{s:?} has a zero width; every layer needs at least one unit"),
        Err(_) => bail!("{s:?} is not a list of positive integers like 13-40-40-3"),
    }
}

/// Checks that `widths` describe a network: at least an input and an output width, none zero,
/// and a parameter count that fits in memory.
///
/// # Errors
///
/// Says which of these fails.
pub fn check_widths(widths: &[usize]) -> Result<()> {
    ensure!(
        widths.len() >= 2,
        "a network needs at least an input and an output width, got {:?}",
        format_widths(widths)
    );
    ensure!(
        widths.iter().all(|&w| w > 0),
        "the {} network has a zero width; every layer needs at least one unit",
        format_widths(widths)
    );
    ensure!(
        Net::param_count(widths).is_some_and(|n| n <= isize::MAX as usize / 4),
        "the {} network has too many parameters",
        format_widths(widths)
    );
    Ok(())
}

impl Model {
    /// A zeroed network of the given widths (input, hidden…, classes) with `activation`.
    ///
    /// # Errors
    ///
    /// As [`check_widths`].
    pub fn zeros(widths: &[usize], activation: Activation) -> Result<Model> {
        check_widths(widths)?;
        let n = Net::param_count(widths).unwrap_or(0);
        let mut params = Vec::new();
        if params.try_reserve_exact(n).is_err() {
            bail!(
                "cannot allocate the {n} parameters of a {} network",
                format_widths(widths)
            );
        }
        params.resize(n, 0.0);
        Model::from_params(widths.to_vec(), params, activation)
    }

    /// A network of these widths over the flat parameters `params` (`nn.Sequential` order:
    /// `W0 [w1][w0]` row-major, `b0`, `W1`, `b1`, …).
    ///
    /// # Errors
    ///
    /// As [`check_widths`], and when `params` does not have the widths' parameter count.
    pub fn from_params(
        widths: Vec<usize>,
        params: Vec<f32>,
        activation: Activation,
    ) -> Result<Model> {
        check_widths(&widths)?;
        let want = Net::param_count(&widths).unwrap_or(0);
        ensure!(
            params.len() == want,
            "a {} network has {want} parameters, got {}",
            format_widths(&widths),
            params.len()
        );
        match Net::new(widths, params, activation) {
            Ok(net) => Ok(Model { net }),
            Err(e) => bail!("{e}"),
        }
    }

    /// A freshly initialised network (`W ~ N(0, 1/fan_in)`, `b = 0`, from `seed`).
    ///
    /// # Errors
    ///
    /// As [`Model::zeros`].
    pub fn new(widths: &[usize], activation: Activation, seed: u64) -> Result<Model> {
        let mut m = Model::zeros(widths, activation)?;
        m.net.init(&mut Rng::new(seed));
        Ok(m)
    }

    /// The core's network, for the core's functions.
    pub fn net(&self) -> &Net {
        &self.net
    }

    /// The core's network, mutable (optimisers, blob parsing).
    pub fn net_mut(&mut self) -> &mut Net {
        &mut self.net
    }

    /// The network, given back.
    pub fn into_net(self) -> Net {
        self.net
    }

    /// A zeroed copy of the network: a gradient buffer (or optimiser state) of its shape.
    pub fn zeroed_like(&self) -> Net {
        let mut g = self.net.clone();
        vatic::Parameters::zero(&mut g);
        g
    }

    /// A workspace for the core's functions: `shape.workspace_len(BLOCK)` values, blocks of
    /// [`BLOCK`] samples. The gradients of adversarial training and of VAT+EntMin depend on
    /// the block size; this one gives the bits of the firmware and of earlier vatic versions.
    pub fn workspace(&self) -> Vec<f32> {
        vec![0.0; self.net.shape().workspace_len(BLOCK)]
    }

    /// The layer widths, input first.
    pub fn widths(&self) -> &[usize] {
        self.net.widths()
    }

    /// The hidden widths (empty for a single linear layer).
    pub fn hidden(&self) -> &[usize] {
        let w = self.widths();
        &w[1..w.len() - 1]
    }

    /// Number of dense layers (hidden layers + 1).
    pub fn depth(&self) -> usize {
        self.net.depth()
    }

    /// The hidden-layer activation.
    pub fn activation(&self) -> Activation {
        self.net.activation()
    }

    /// Number of input features.
    pub fn features(&self) -> usize {
        self.widths()[0]
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        *self.widths().last().unwrap_or(&0)
    }

    /// The flat parameters.
    pub fn params(&self) -> &[f32] {
        self.net.params()
    }

    /// The parameter tensors in `nn.Sequential` order (per layer: weight `[out][in]` row-major,
    /// then bias).
    pub fn tensors(&self) -> Vec<&[f32]> {
        vatic::Parameters::tensors(&self.net).collect()
    }

    /// The widths as `"13-40-40-3"`.
    pub fn shape_name(&self) -> String {
        format_widths(self.widths())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_shape_builds_with_its_widths() {
        for w in [
            &[2, 100, 2][..],
            &[13, 40, 40, 3],
            &[4, 16, 12, 8, 3],
            &[5, 2],
            &[784, 1200, 10],
        ] {
            let m = Model::new(w, Activation::Tanh, 1).unwrap();
            assert_eq!(m.widths(), w);
            assert_eq!(m.activation(), Activation::Tanh);
            assert_eq!(m.depth(), w.len() - 1);
            assert_eq!(m.hidden(), &w[1..w.len() - 1]);
            let t = m.tensors();
            assert_eq!(t.len(), 2 * (w.len() - 1));
            assert_eq!(t[0].len(), w[0] * w[1]);
            assert!(t[0].iter().any(|&v| v != 0.0));
            assert!(t[1].iter().all(|&v| v == 0.0));
            let per = m.net().shape().per_sample();
            assert_eq!(m.workspace().len(), per * BLOCK);
        }
    }

    #[test]
    fn same_bits_as_the_compile_time_network() {
        let m = Model::new(&[4, 16, 12, 3], Activation::Relu, 7).unwrap();
        let net: vatic::Mlp2<4, 16, 12, 3> = vatic::Net::new(Activation::Relu, &mut Rng::new(7));
        let flat: Vec<f32> = vatic::Parameters::tensors(&net)
            .flatten()
            .copied()
            .collect();
        assert_eq!(m.params(), &flat[..]);
    }

    #[test]
    fn bad_widths_are_explained() {
        let e = Model::zeros(&[3], Activation::Relu)
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least an input and an output"), "{e}");
        let e = Model::zeros(&[3, 0, 2], Activation::Relu)
            .unwrap_err()
            .to_string();
        assert!(e.contains("3-0-2") && e.contains("zero width"), "{e}");
        let e = Model::zeros(&[usize::MAX, 2, 2], Activation::Relu).unwrap_err();
        assert!(e.to_string().contains("too many parameters"), "{e}");
        let e = Model::zeros(&[1 << 20, 1 << 30, 2], Activation::Relu).unwrap_err();
        assert!(e.to_string().contains("cannot allocate"), "{e}");
        let e = Model::from_params(vec![2, 2], vec![0.0; 5], Activation::Relu).unwrap_err();
        assert!(
            e.to_string()
                .contains("2-2 network has 6 parameters, got 5"),
            "{e}"
        );
    }

    #[test]
    fn widths_parse() {
        assert_eq!(parse_widths("100-100-2").unwrap(), vec![100, 100, 2]);
        assert_eq!(parse_widths("13-40-40-3").unwrap(), vec![13, 40, 40, 3]);
        assert_eq!(parse_widths("40,40").unwrap(), vec![40, 40]);
        assert!(parse_widths("100-a")
            .unwrap_err()
            .to_string()
            .contains("100-a"));
        assert!(parse_widths("").is_err());
        assert!(parse_widths("2--2").is_err());
        assert!(parse_widths("2-0-2")
            .unwrap_err()
            .to_string()
            .contains("zero"));
        assert_eq!(format_widths(&[13, 40, 40, 3]), "13-40-40-3");
    }
}
