//! A cache prefetch hint, for loops whose next loads are known a few iterations ahead
//! but land in tables larger than the cache (group-key interning, per-line group
//! lookups).

/// Ask the CPU to bring the cache line holding `item` closer. A no-op off x86_64.
#[inline]
#[allow(unsafe_code)]
pub fn prefetch<T>(item: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of the x86_64 baseline, and a prefetch is a hint: it
        // never faults and never changes memory. Benefit: the bench
        // `kernels/intern/2x1m_lines_64k_keys/*` and the scan's measure, merge and
        // score stages (README "Performance").
        unsafe { _mm_prefetch::<_MM_HINT_T0>((item as *const T).cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = item;
}
