// Command testsummary reads the event stream of `go test -json` on standard
// input, prints what plain `go test` would have printed (build errors, the
// output of failing tests, the ok, FAIL and "no test files" lines) and then
// lists every skipped test with its package and the reason it gave.
//
// CI uses it so that a test that quietly skips shows up in the log:
//
//	go test -json ./... | go run ./internal/tools/testsummary
//
// It exits with status 1 when a test, a package or a build failed, or when
// the stream held no test event at all, and with status 0 otherwise; the
// exit status of `go test` itself is for the caller to check as well.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	ok, err := summarise(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

// summarise reads go test's JSON events from r and writes the plain output
// and the skip summary to w. It reports whether everything passed.
func summarise(r io.Reader, w io.Writer) (bool, error) {
	s := newSummary(w)
	if err := s.read(r); err != nil {
		return false, err
	}
	if err := s.finish(); err != nil {
		return false, err
	}
	return s.passed(), nil
}
