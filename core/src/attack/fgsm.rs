//! [`Method::Fgsm`](super::Method::Fgsm): one step of size ε along the steepest direction.
//!
//! ```text
//! L∞ (Goodfellow et al. 2015, the fast gradient sign method): x_adv = x + ε · sign(∇_x J)
//! L2 (Miyato's fast gradient method):                          x_adv = x + ε · ∇_x J / ‖∇_x J‖₂
//! ```
//!
//! then clipped to the box. Adversarial training ([`adversarial`](crate::adversarial)) takes
//! the same [`step`] from the gradients of a whole block.

use super::{steepest_direction, Clip, Norm};
use crate::supervised::input_gradient_unchecked;
use crate::Network;

/// FGSM of one validated sample into `adv` (`adv` holds the gradient on the way).
#[inline]
pub(crate) fn fgsm<N: Network + ?Sized>(
    net: &N,
    x: &[f32],
    y: usize,
    eps: f32,
    norm: Norm,
    clip: Option<Clip>,
    adv: &mut [f32],
    ws: &mut [f32],
) {
    input_gradient_unchecked(net, x, y, adv, ws);
    step(x, adv, eps, norm, clip);
}

/// `g ← x + ε · dir(g)`, clipped: the gradient in `g` becomes the perturbed sample.
#[inline]
pub(crate) fn step(x: &[f32], g: &mut [f32], eps: f32, norm: Norm, clip: Option<Clip>) {
    steepest_direction(g, norm);
    for (a, &xi) in g.iter_mut().zip(x) {
        *a = xi + eps * *a;
    }
    Clip::apply(clip, g);
}
