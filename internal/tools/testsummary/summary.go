package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json's TestEvent, and the
// build events cmd/go adds).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string
	Elapsed    float64
}

// node is one test or subtest of a running package: its result line
// ("--- FAIL: ..."), the other lines it printed and its subtests.
type node struct {
	header   string
	body     []string
	children []*node
	failed   bool
	done     bool
}

// pkgState holds a package's tests until the package ends.
type pkgState struct {
	tests map[string]*node
	top   []*node
}

// skipped is one skipped test and the lines that say why.
type skipped struct {
	pkg, test string
	reason    []string
}

// result is how a test that must run ended.
type result struct {
	pkg, test, action string
	elapsed           float64
}

// summary turns go test's event stream back into its plain output.
type summary struct {
	w                   io.Writer
	mustRun             *regexp.Regexp // nil: no test must run
	musts               []result
	err                 error
	pkgs                map[string]*pkgState
	skips               []skipped
	events              int
	npass, nfail, nskip int
	failed              bool
}

func newSummary(w io.Writer, mustRun *regexp.Regexp) *summary {
	return &summary{w: w, mustRun: mustRun, pkgs: map[string]*pkgState{}}
}

// printf writes to the output, keeping the first error.
func (s *summary) printf(format string, args ...any) {
	if s.err != nil {
		return
	}
	_, s.err = fmt.Fprintf(s.w, format, args...)
}

// read handles every line of r: JSON events, and any other line as it is.
func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil || e.Action == "" {
			s.printf("%s\n", line)
			continue
		}
		s.handle(e)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading the events: %w", err)
	}
	return s.err
}

func (s *summary) handle(e event) {
	s.events++
	switch e.Action {
	case "build-output":
		s.printf("%s", e.Output)
		return
	case "build-fail":
		s.failed = true
		return
	}
	if e.Package == "" {
		return
	}
	p := s.pkgs[e.Package]
	if p == nil {
		p = &pkgState{tests: map[string]*node{}}
		s.pkgs[e.Package] = p
	}
	if e.Test == "" {
		s.handlePackage(p, e)
		return
	}
	n := p.tests[e.Test]
	if n == nil {
		n = &node{}
		p.tests[e.Test] = n
		if parent := p.parent(e.Test); parent != nil {
			parent.children = append(parent.children, n)
		} else {
			p.top = append(p.top, n)
		}
	}
	if s.mustRun != nil && s.mustRun.MatchString(e.Test) && (e.Action == "pass" || e.Action == "skip" || e.Action == "fail") {
		s.musts = append(s.musts, result{pkg: e.Package, test: e.Test, action: e.Action, elapsed: e.Elapsed})
	}
	switch e.Action {
	case "output":
		line := strings.TrimSuffix(e.Output, "\n")
		switch {
		case strings.HasPrefix(line, "=== "):
			// RUN, PAUSE, CONT and NAME lines exist only in verbose output.
		case strings.HasPrefix(line, "--- FAIL: "), strings.HasPrefix(line, "--- PASS: "), strings.HasPrefix(line, "--- SKIP: "):
			n.header = line
		default:
			n.body = append(n.body, line)
		}
	case "pass":
		n.done = true
		s.npass++
	case "skip":
		n.done = true
		s.nskip++
		s.skips = append(s.skips, skipped{pkg: e.Package, test: e.Test, reason: reason(n.body)})
	case "fail":
		n.done, n.failed = true, true
		s.nfail++
		s.failed = true
		if p.parent(e.Test) == nil {
			s.render(n, 0)
		}
	}
}

// handlePackage prints a package's own lines (ok, FAIL, no test files), not
// the PASS line that only verbose output has, and forgets the package when
// it ends.
func (s *summary) handlePackage(p *pkgState, e event) {
	switch e.Action {
	case "output":
		if e.Output == "PASS\n" {
			return
		}
		s.flush(p)
		s.printf("%s", e.Output)
	case "fail":
		s.failed = true
		s.flush(p)
		delete(s.pkgs, e.Package)
	case "pass", "skip":
		delete(s.pkgs, e.Package)
	}
}

// parent returns the test that name is a subtest of, or nil for a
// top-level test.
func (p *pkgState) parent(name string) *node {
	for i := strings.LastIndexByte(name, '/'); i > 0; i = strings.LastIndexByte(name[:i], '/') {
		if n := p.tests[name[:i]]; n != nil {
			return n
		}
	}
	return nil
}

// flush prints the top-level tests of p that have not ended (a test binary
// that crashed or timed out leaves them so) and forgets them.
func (s *summary) flush(p *pkgState) {
	for _, n := range p.top {
		if !n.done {
			n.done = true
			s.render(n, 0)
		}
	}
	p.top = p.top[:0]
}

// render prints a failed test as plain go test does: its result line, what
// it logged, then its failed subtests, indented by depth.
func (s *summary) render(n *node, depth int) {
	indent := strings.Repeat("    ", depth)
	if n.header != "" {
		s.printf("%s%s\n", indent, n.header)
	}
	for _, line := range n.body {
		if line == "" {
			s.printf("\n")
			continue
		}
		s.printf("%s%s\n", indent, line)
	}
	for _, c := range n.children {
		if c.failed || !c.done {
			s.render(c, depth+1)
		}
	}
}

// reason returns the message a skipped test gave: its last log entry (a
// line indented by four spaces and the lines continuing it).
func reason(body []string) []string {
	last := -1
	for i, line := range body {
		if strings.HasPrefix(line, "    ") && len(line) > 4 && line[4] != ' ' {
			last = i
		}
	}
	var out []string
	if last >= 0 {
		body = body[last:]
	}
	for _, line := range body {
		if t := strings.TrimSpace(line); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// finish prints what the stream left unfinished and the skip summary.
func (s *summary) finish() error {
	names := make([]string, 0, len(s.pkgs))
	for name := range s.pkgs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := s.pkgs[name]
		for _, n := range p.top {
			if !n.done {
				s.failed = true
			}
		}
		s.flush(p)
	}
	if s.events == 0 {
		s.failed = true
		s.printf("testsummary: no test events in the input\n")
		return s.err
	}
	if s.failed {
		s.printf("FAIL\n") // as go test ends when something failed
	}
	s.printf("\n== skipped tests: %d of %d tests and subtests (%d passed, %d failed)\n",
		s.nskip, s.npass+s.nfail+s.nskip, s.npass, s.nfail)
	for _, sk := range s.skips {
		s.printf("%s in %s\n", sk.test, sk.pkg)
		if len(sk.reason) == 0 {
			s.printf("    (no reason given)\n")
		}
		for _, line := range sk.reason {
			s.printf("    %s\n", line)
		}
	}
	if s.mustRun != nil {
		s.printf("== tests that must run (%s): %d\n", s.mustRun, len(s.musts))
		for _, r := range s.musts {
			s.printf("%s %s in %s (%.2fs)\n", strings.ToUpper(r.action), r.test, r.pkg, r.elapsed)
			if r.action != "pass" {
				s.failed = true
			}
		}
		if len(s.musts) == 0 {
			s.failed = true
			s.printf("none of them ran\n")
		}
	}
	return s.err
}

// passed reports whether no test, package or build failed.
func (s *summary) passed() bool { return !s.failed }
