// Package parallel hands the work of rnnkit's kernels to the cores: [Run]
// runs the parts of a job, part 0 on the calling goroutine and the others
// on a team of worker goroutines kept for the process (one per core beyond
// the first), and [For] splits a loop over one range per core when the
// work is worth it.
//
// The fused recurrent kernels (package recurrent) hand work to the other
// cores two or three times per time step, a few hundred microseconds apart;
// the team's workers spin briefly between jobs, so such a hand-off takes
// well under a microsecond where waking a parked goroutine takes tens. The
// loss and the sequence attention use the same team. In a build whose BLAS
// runs threads of its own (blas.OwnThreads, the OpenBLAS build) the parts
// run on goroutines instead.
//
// [Pull] is for a few coarse hand-offs per call (a decoder step's row
// blocks, beam search's groups of sources): items taken in turn by the
// caller and goroutines started for the call, and no spinning, so that a
// caller whose helper is descheduled on a busy machine blocks instead of
// burning its core.
package parallel
