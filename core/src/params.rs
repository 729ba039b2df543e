//! Parameter storage seen as a list of flat tensors, so optimisers and gradient buffers can work
//! on any network shape.

/// A fixed set of `f32` tensors: a network's parameters, its gradient, or an optimiser's state.
///
/// Gradients and optimiser moments have the same type as the network they belong to, so
/// `size_of::<N>()` is the RAM of each of them. Tensors are visited in a fixed order (layer by
/// layer, weight before bias, weights row-major `[out][in]`), which is also the order of
/// [`Parameters::tensors`] in model files.
pub trait Parameters {
    /// The tensors, flattened, in the fixed order.
    fn tensors(&self) -> impl Iterator<Item = &[f32]>;

    /// The tensors, flattened and mutable, in the fixed order.
    fn tensors_mut(&mut self) -> impl Iterator<Item = &mut [f32]>;

    /// Number of scalar parameters.
    fn count(&self) -> usize {
        self.tensors().map(<[f32]>::len).sum()
    }

    /// Sets every parameter to zero (does not touch non-parameter fields such as the activation).
    fn zero(&mut self) {
        for t in self.tensors_mut() {
            t.fill(0.0);
        }
    }

    /// `self ← self + α · other`.
    fn add_scaled(&mut self, alpha: f32, other: &Self) {
        for (a, b) in self.tensors_mut().zip(other.tensors()) {
            crate::kernels::axpy(a, alpha, b);
        }
    }

    /// `self ← α · self`.
    fn scale(&mut self, alpha: f32) {
        for t in self.tensors_mut() {
            for v in t {
                *v *= alpha;
            }
        }
    }

    /// Copies every parameter from `other` (non-parameter fields are left alone).
    fn copy_from(&mut self, other: &Self) {
        for (a, b) in self.tensors_mut().zip(other.tensors()) {
            a.copy_from_slice_checked(b);
        }
    }

    /// `Σ θ²` over every parameter, accumulated tensor by tensor in `f32`.
    fn squared_norm(&self) -> f32 {
        self.tensors().map(|t| crate::kernels::dot(t, t)).sum()
    }

    /// `true` when every parameter is finite.
    fn is_finite(&self) -> bool {
        self.tensors().all(|t| t.iter().all(|v| v.is_finite()))
    }

    /// `Ok` when every parameter is finite; otherwise the first NaN or ±∞, by tensor (in
    /// `nn.Sequential` order) and position. One pass over the parameters, no arithmetic.
    ///
    /// This is vatic's policy for non-finite parameters: they are refused where a network
    /// enters (the blob parser and the host's model loader), and the batch-level reports in
    /// [`metrics`](crate::metrics) and [`supervised::accuracy`](crate::supervised::accuracy)
    /// check again before they count anything, so a NaN weight is an error and never a
    /// plausible accuracy. The per-sample primitives (a pass, a loss, an attack, a VAT
    /// gradient) trust the network they are given: checking there would cost as much as the
    /// work. Training loops should call this (or [`is_finite`](Parameters::is_finite)) after
    /// an epoch, as `vatic train` does.
    ///
    /// # Errors
    ///
    /// [`Error::NonFiniteParameter`](crate::Error::NonFiniteParameter).
    fn check_finite(&self) -> crate::Result<()> {
        for (tensor, t) in self.tensors().enumerate() {
            if let Some(index) = t.iter().position(|v| !v.is_finite()) {
                return Err(crate::Error::NonFiniteParameter { tensor, index });
            }
        }
        Ok(())
    }
}

/// Parameter storage whose all-zero value is a constant: the compile-time networks, so that a
/// network, its gradient and its optimiser state can be built in a `const` or a `static`.
pub trait Zeroed: Parameters + Sized {
    /// All parameters zero (for a network: ReLU and zero weights).
    const ZERO: Self;
    /// Number of scalar parameters.
    const COUNT: usize;
}

/// `copy_from_slice` without its length panic: copies the common prefix.
trait CopyChecked {
    fn copy_from_slice_checked(&mut self, src: &[f32]);
}

impl CopyChecked for [f32] {
    fn copy_from_slice_checked(&mut self, src: &[f32]) {
        for (d, &s) in self.iter_mut().zip(src) {
            *d = s;
        }
    }
}
