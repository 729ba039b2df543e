//! The board-facing side: a status pin and a delay, as embedded-hal 1.0 traits.

use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{ErrorType, OutputPin};

/// Shows the outcome on a status output: held **high** (LED on, for an active-high LED) while
/// the checks run, then low on success, or `failed` short blinks (at most 10) then high on
/// failure, so a board without a console still tells the result.
///
/// # Errors
///
/// The pin's.
pub fn show_outcome<P: OutputPin, D: DelayNs>(
    pin: &mut P,
    delay: &mut D,
    failed: u32,
) -> Result<(), P::Error> {
    if failed == 0 {
        return pin.set_low();
    }
    for _ in 0..failed.min(10) {
        pin.set_low()?;
        delay.delay_ms(150);
        pin.set_high()?;
        delay.delay_ms(150);
    }
    Ok(())
}

/// An output pin that goes nowhere, for boards (QEMU machines) without a usable LED.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPin;

impl ErrorType for NoPin {
    type Error = core::convert::Infallible;
}

impl OutputPin for NoPin {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// A delay that returns at once, for QEMU (which does not model time usefully).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoDelay;

impl DelayNs for NoDelay {
    fn delay_ns(&mut self, _ns: u32) {}
}
