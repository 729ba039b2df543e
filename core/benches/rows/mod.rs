//! The benchmark rows, shared by `benches/steps.rs` (time, criterion) and
//! `examples/step_cost.rs` (instruction counts), so that both measure the same steps.
//!
//! A step is what a training loop does per batch: zero the gradient, compute the loss and its
//! parameter gradient, and apply momentum SGD. Rows:
//! * `forward`: logits of the batch ([`vatic::pass::logits`]; no gradient, no update);
//! * `ce`: cross-entropy step;
//! * `fgsm_at`: FGSM (L∞, ε = 0.1) + adversarial-training step (α = 0.5);
//! * `vat_fd`, `vat_exact`: semi-supervised VAT step, K = 1, ε = 1, ξ = 1e-6, with the batch as
//!   both the labelled and the unlabelled batch, finite-difference or exact direction.

use vatic::adversarial::{adversarial_grad, AdversarialConfig};
use vatic::optim::{Optimizer, Sgd, SgdConfig};
use vatic::semi::{semi_supervised_grad, SemiConfig};
use vatic::vat::{Direction, VatConfig};
use vatic::{pass, supervised, Mlp, Network, Parameters, Rng};

/// One benchmark row.
#[derive(Clone, Copy, Debug)]
pub enum Row {
    Forward,
    Ce,
    FgsmAt,
    VatFd,
    VatExact,
}

impl Row {
    /// Every row, in the order of the tables.
    pub const ALL: [Row; 5] = [
        Row::Forward,
        Row::Ce,
        Row::FgsmAt,
        Row::VatFd,
        Row::VatExact,
    ];

    /// The row's name in criterion ids and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Row::Forward => "forward",
            Row::Ce => "ce",
            Row::FgsmAt => "fgsm_at",
            Row::VatFd => "vat_fd",
            Row::VatExact => "vat_exact",
        }
    }

    /// The row called `name`.
    #[allow(dead_code)] // used by the example only
    pub fn parse(name: &str) -> Option<Row> {
        Row::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// A network `IN-H-OUT`, its gradient, momentum SGD and a batch of `N(0, 1)` inputs with labels
/// `i mod OUT`, all drawn from `Rng::new(1)` (the network on the heap: 784-1200-10 is 3.8 MB).
pub struct Bench<const IN: usize, const H: usize, const OUT: usize> {
    net: Box<Mlp<IN, H, OUT>>,
    grad: Box<Mlp<IN, H, OUT>>,
    opt: Box<Sgd<Mlp<IN, H, OUT>>>,
    xs: Vec<f32>,
    ys: Vec<usize>,
    zs: Vec<f32>,
    ws: Vec<f32>,
}

impl<const IN: usize, const H: usize, const OUT: usize> Bench<IN, H, OUT> {
    /// The set-up for a batch of `batch` samples, and the generator it drew from.
    pub fn new(batch: usize) -> (Self, Rng) {
        let mut rng = Rng::new(1);
        let mut net: Box<Mlp<IN, H, OUT>> = Box::new(Mlp::ZERO);
        net.init(&mut rng);
        let xs: Vec<f32> = (0..batch * IN).map(|_| rng.normal()).collect();
        let bench = Bench {
            net,
            grad: Box::new(Mlp::ZERO),
            opt: Box::new(
                // PyTorch's undampened momentum, as the peers in `bench/` run it.
                Sgd::new(SgdConfig {
                    lr_decay: 0.995,
                    ..SgdConfig::pytorch(1e-3, 0.9)
                })
                .expect("valid SGD settings"),
            ),
            ys: (0..batch).map(|i| i % OUT).collect(),
            zs: vec![0.0; batch * OUT],
            ws: vec![0.0; Mlp::<IN, H, OUT>::WORKSPACE],
            xs,
        };
        (bench, rng)
    }

    /// One step of `row`, the VAT rows' noise drawn from `rng`; returns the loss (for
    /// `forward`, the first logit) so the work cannot be optimised away.
    pub fn step(&mut self, row: Row, rng: &mut Rng) -> f32 {
        let (net, grad, xs, ys) = (&*self.net, &mut *self.grad, &self.xs, &self.ys);
        let ws = &mut self.ws;
        if let Row::Forward = row {
            pass::logits(net, xs, &mut self.zs, ws).expect("benchmark inputs are valid");
            return self.zs.first().copied().unwrap_or(0.0);
        }
        grad.zero();
        let loss = match row {
            Row::Forward | Row::Ce => supervised::cross_entropy_grad(net, xs, ys, 1.0, grad, ws),
            Row::FgsmAt => {
                adversarial_grad(net, xs, ys, &AdversarialConfig::new(0.1), 1.0, grad, ws)
            }
            Row::VatFd | Row::VatExact => {
                let direction = match row {
                    Row::VatFd => Direction::FiniteDifference,
                    _ => Direction::Exact,
                };
                let cfg = SemiConfig::vat(VatConfig {
                    eps: 1.0,
                    xi: 1e-6,
                    iterations: 1,
                    direction,
                });
                semi_supervised_grad(net, xs, ys, xs, rng, &cfg, grad, ws).map(|l| l.total)
            }
        }
        .expect("benchmark inputs are valid");
        self.opt.step(&mut self.net, &self.grad);
        loss
    }
}
