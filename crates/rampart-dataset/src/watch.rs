use rampart_table::ProgressHook;

/// Where long work reports itself. The CLI draws a byte bar for each
/// read and a spinner for each step; a server could log; [`Quiet`] shows
/// nothing.
pub trait Watch: Sync {
    /// A read of a file begins (`message` names it): where its bytes are
    /// counted, if anywhere. Ends at the next [`Watch::done`].
    fn read(&self, message: &str) -> Option<ProgressHook> {
        let _ = message;
        None
    }
    /// A step of unknown length (profiling, fitting a model) begins.
    /// Ends at the next [`Watch::done`].
    fn step(&self, message: &str) {
        let _ = message;
    }
    /// The read or step under way ended.
    fn done(&self) {}
}

/// A [`Watch`] that shows nothing.
pub struct Quiet;

impl Watch for Quiet {}

/// Runs `work` between `watch.step(message)` and `watch.done()`.
pub(crate) fn step<T>(watch: &dyn Watch, message: &str, work: impl FnOnce() -> T) -> T {
    watch.step(message);
    let out = work();
    watch.done();
    out
}
