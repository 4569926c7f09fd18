//go:build race

package word2vec

// raceEnabled reports whether the race detector is on: Hogwild threads
// write the shared weights without locks by design, which it reports, so
// the tests run more than one thread only without it.
const raceEnabled = true
