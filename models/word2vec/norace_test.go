//go:build !race

package word2vec

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
