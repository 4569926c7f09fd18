// Command testsummary reads the event stream of `go test -json` on standard
// input, prints what plain `go test` would have printed (build errors, the
// output of failing tests, the ok, FAIL and "no test files" lines) and then
// lists every skipped test with its package and the reason it gave.
//
// CI uses it so that a test that quietly skips shows up in the log:
//
//	go test -json ./... | go run ./internal/tools/testsummary [-must-run REGEXP]
//
// With -must-run REGEXP it also lists how the tests whose names match ended,
// and fails unless at least one matched and every one that matched passed:
// CI names the tests that need PyTorch and numpy, so that they cannot skip
// unnoticed.
//
// It exits with status 1 when a test, a package or a build failed, when a
// test that must run did not pass, or when the stream held no test event at
// all, and with status 0 otherwise; the exit status of `go test` itself is
// for the caller to check as well.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
)

func main() {
	mustRun := flag.String("must-run", "", "a regular expression: the tests whose names match must run and pass")
	flag.Parse()
	var re *regexp.Regexp
	if *mustRun != "" {
		var err error
		if re, err = regexp.Compile(*mustRun); err != nil {
			fmt.Fprintln(os.Stderr, "testsummary: -must-run:", err)
			os.Exit(2)
		}
	}
	ok, err := summarise(os.Stdin, os.Stdout, re)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

// summarise reads go test's JSON events from r and writes the plain output
// and the skip summary to w. It reports whether everything passed, and
// whether the tests matching mustRun (if not nil) ran and passed.
func summarise(r io.Reader, w io.Writer, mustRun *regexp.Regexp) (bool, error) {
	s := newSummary(w, mustRun)
	if err := s.read(r); err != nil {
		return false, err
	}
	if err := s.finish(); err != nil {
		return false, err
	}
	return s.passed(), nil
}
