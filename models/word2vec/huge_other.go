//go:build !linux

package word2vec

// adviseHuge does nothing here (see huge_linux.go).
func adviseHuge(w []float32) {}
