package word2vec

import (
	"math"

	"github.com/pkg/errors"
)

// Config is a training run's settings, named and defaulted as the C tool's
// flags (word2vec.c, whose `-threads` default of 12 is here the number of
// CPUs the caller chooses).
type Config struct {
	// CBOW selects the continuous bag of words (the hidden vector is the
	// mean of the context words' vectors, and predicts the centre word);
	// false is skip-gram (each context word's vector predicts the centre
	// word, as word2vec.c pairs them).
	CBOW bool `json:"cbow"`
	// Size is the vector size (`-size`, 100).
	Size int `json:"size"`
	// Window is the largest distance between the centre word and a context
	// word (`-window`, 5); each centre word draws b uniform in [0, Window)
	// and uses the Window − b words on each side.
	Window int `json:"window"`
	// Negative is the number of negative samples per prediction (`-negative`,
	// 5; 0 = no negative sampling).
	Negative int `json:"negative"`
	// HS selects the hierarchical softmax output layer (`-hs`, off). HS and
	// negative sampling may be used together, as in the C tool.
	HS bool `json:"hs"`
	// Sample is the sub-sampling threshold t (`-sample`, 1e-3; 0 = off): a
	// word of count c among T training words is kept with probability
	// (√(c/(tT)) + 1)·tT/c.
	Sample float64 `json:"sample"`
	// Iter is the number of passes over the corpus (`-iter`, 5).
	Iter int `json:"iter"`
	// MinCount drops words that occur fewer times (`-min-count`, 5); it is
	// applied when the corpus is read ([ReadCorpus]).
	MinCount int `json:"min_count"`
	// Threads is the number of goroutines that train the shared weights
	// without locks (Hogwild; `-threads`).
	Threads int `json:"threads"`
	// Alpha is the starting learning rate (`-alpha`); 0 means the C tool's
	// default, 0.025 for skip-gram and 0.05 for CBOW. It decays linearly to
	// Alpha·10⁻⁴ over the run.
	Alpha float64 `json:"alpha"`
	// Seed picks the random streams: seed 0 gives the C tool's own (the
	// initial vectors from the generator state 1, thread k from state k);
	// see [Seeds].
	Seed uint64 `json:"seed"`
}

// DefaultConfig returns the C tool's defaults (CBOW, as word2vec.c) with one
// thread.
func DefaultConfig() Config {
	return Config{CBOW: true, Size: 100, Window: 5, Negative: 5, Sample: 1e-3, Iter: 5, MinCount: 5, Threads: 1}
}

// StartAlpha returns the starting learning rate: Alpha, or the C tool's
// default for the architecture when Alpha is 0.
func (c Config) StartAlpha() float64 {
	switch {
	case c.Alpha != 0:
		return c.Alpha
	case c.CBOW:
		return 0.05
	}
	return 0.025
}

// Largest accepted values; above them a run would not fit in memory or is
// surely a mistake.
const (
	MaxSize    = 1 << 14
	MaxWindow  = 1 << 10
	MaxNeg     = 1 << 10
	MaxIter    = 1 << 20
	MaxThreads = 1 << 10
)

// Validate reports the first setting out of range, naming it by its C-tool
// flag, as an error wrapping [ErrConfig].
func (c Config) Validate() error {
	bad := func(flag string, v any, want string) error {
		return errors.Wrapf(ErrConfig, "-%s %v: want %s", flag, v, want)
	}
	switch {
	case c.Size < 1 || c.Size > MaxSize:
		return bad("size", c.Size, "1 to 16384")
	case c.Window < 1 || c.Window > MaxWindow:
		return bad("window", c.Window, "1 to 1024")
	case c.Negative < 0 || c.Negative > MaxNeg:
		return bad("negative", c.Negative, "0 to 1024")
	case c.Negative == 0 && !c.HS:
		return bad("negative", c.Negative, "at least 1 unless -hs 1 (no output layer)")
	case !(c.Sample >= 0 && c.Sample < 1):
		return bad("sample", c.Sample, "0 (off) or in (0, 1)")
	case c.Iter < 1 || c.Iter > MaxIter:
		return bad("iter", c.Iter, "1 to 1048576")
	case c.MinCount < 1:
		return bad("min-count", c.MinCount, "at least 1")
	case c.Threads < 1 || c.Threads > MaxThreads:
		return bad("threads", c.Threads, "1 to 1024")
	case !(c.Alpha >= 0 && c.Alpha <= 10) || math.IsNaN(c.Alpha):
		return bad("alpha", c.Alpha, "0 (the default) or a positive rate up to 10")
	}
	return nil
}

// goldenGamma is 2⁶⁴/φ, odd: multiplying the seed by it spreads a small
// seed over every bit of the generator's state, the low bits included (the
// C tool's sub-sampling and window draws read the low bits).
const goldenGamma = 0x9E3779B97F4A7C15

// Seeds returns the starting states of the C tool's generator
// (next = next·25214903917 + 11) for a run with the given seed and
// threads: the initial vectors' stream, then one stream per thread. Seed 0
// gives word2vec.c's own states (1, and k for thread k); seed s adds
// s·0x9E3779B97F4A7C15 to each.
func Seeds(seed uint64, threads int) (init uint64, thread []uint64) {
	off := seed * goldenGamma
	thread = make([]uint64, threads)
	for k := range thread {
		thread[k] = uint64(k) + off
	}
	return 1 + off, thread
}
