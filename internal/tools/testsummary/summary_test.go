package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

// testdata/mixed.json is `go test -json ./...` over a small module (times
// blanked): a failing test with a skipped, a failed and a passing subtest, a
// passing test, a skipped test, a package without tests and a passing
// package with a bare t.Skip(). Plain `go test ./...` printed the lines of
// mixed.golden above its skip summary (with other timings).
func TestGolden(t *testing.T) {
	in, err := os.ReadFile("testdata/mixed.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/mixed.golden")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ok, err := summarise(bytes.NewReader(in), &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Error("a stream with failed tests was reported as passing")
	}
	if out.String() != string(want) {
		t.Errorf("output differs from testdata/mixed.golden:\n%s", out.String())
	}
}

func TestPassingStream(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"start","Package":"m/p"}`,
		`{"Action":"run","Package":"m/p","Test":"TestA"}`,
		`{"Action":"output","Package":"m/p","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"output","Package":"m/p","Test":"TestA","Output":"    a_test.go:3: only in verbose output\n"}`,
		`{"Action":"output","Package":"m/p","Test":"TestA","Output":"--- PASS: TestA (0.00s)\n"}`,
		`{"Action":"pass","Package":"m/p","Test":"TestA"}`,
		`{"Action":"output","Package":"m/p","Output":"PASS\n"}`,
		`{"Action":"output","Package":"m/p","Output":"ok  \tm/p\t0.01s\n"}`,
		`{"Action":"pass","Package":"m/p"}`,
		`a line that is not an event`,
	}, "\n")
	var out bytes.Buffer
	ok, err := summarise(strings.NewReader(in), &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Error("a passing stream was reported as failing")
	}
	want := "ok  \tm/p\t0.01s\na line that is not an event\n\n== skipped tests: 0 of 1 tests and subtests (1 passed, 0 failed)\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}

// A test binary that dies mid-test leaves a test with no result; its output
// is still printed and the run fails.
func TestUnfinishedTest(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"run","Package":"m/p","Test":"TestHang"}`,
		`{"Action":"output","Package":"m/p","Test":"TestHang","Output":"=== RUN   TestHang\n"}`,
		`{"Action":"output","Package":"m/p","Test":"TestHang","Output":"panic: test timed out after 1s\n"}`,
		`{"Action":"output","Package":"m/p","Output":"FAIL\tm/p\t1.01s\n"}`,
		`{"Action":"fail","Package":"m/p"}`,
	}, "\n")
	var out bytes.Buffer
	ok, err := summarise(strings.NewReader(in), &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Error("a failed package was reported as passing")
	}
	if !strings.HasPrefix(out.String(), "panic: test timed out after 1s\nFAIL\tm/p\t1.01s\nFAIL\n") {
		t.Errorf("got\n%s", out.String())
	}
}

func TestBuildFailure(t *testing.T) {
	in := strings.Join([]string{
		`{"ImportPath":"m/b [m/b.test]","Action":"build-output","Output":"# m/b [m/b.test]\n"}`,
		`{"ImportPath":"m/b [m/b.test]","Action":"build-output","Output":"b/b_test.go:3:28: declared and not used: x\n"}`,
		`{"ImportPath":"m/b [m/b.test]","Action":"build-fail"}`,
		`{"Action":"start","Package":"m/b"}`,
		`{"Action":"output","Package":"m/b","Output":"FAIL\tm/b [build failed]\n"}`,
		`{"Action":"fail","Package":"m/b","FailedBuild":"m/b [m/b.test]"}`,
	}, "\n")
	var out bytes.Buffer
	ok, err := summarise(strings.NewReader(in), &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Error("a failed build was reported as passing")
	}
	if !strings.HasPrefix(out.String(), "# m/b [m/b.test]\nb/b_test.go:3:28: declared and not used: x\nFAIL\tm/b [build failed]\n") {
		t.Errorf("got\n%s", out.String())
	}
}

// An empty stream (go test could not start) is a failure, not a pass.
func TestEmptyStream(t *testing.T) {
	var out bytes.Buffer
	ok, err := summarise(strings.NewReader(""), &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Error("an empty stream was reported as passing")
	}
}

func TestReason(t *testing.T) {
	for _, c := range []struct {
		body []string
		want string
	}{
		{[]string{"    x_test.go:3: context", "    x_test.go:4: no tool:", "        exit status 1"}, "x_test.go:4: no tool:|exit status 1"},
		{[]string{"    x_test.go:9: skipped"}, "x_test.go:9: skipped"},
		{[]string{"printed by the test"}, "printed by the test"},
		{nil, ""},
	} {
		if got := strings.Join(reason(c.body), "|"); got != c.want {
			t.Errorf("reason(%q) = %q, want %q", c.body, got, c.want)
		}
	}
}

func TestMustRun(t *testing.T) {
	in, err := os.ReadFile("testdata/mixed.json")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string // example.com/m/c and /d only: they pass
	for _, line := range strings.Split(string(in), "\n") {
		if !strings.Contains(line, "example.com/m/a") {
			lines = append(lines, line)
		}
	}
	d := strings.Join(lines, "\n")
	for _, c := range []struct {
		re   string
		ok   bool
		want string
	}{
		{"^TestOK$", true, "== tests that must run (^TestOK$): 1\nPASS TestOK in example.com/m/d (0.00s)\n"},
		{"^TestSkip$", false, "== tests that must run (^TestSkip$): 1\nSKIP TestSkip in example.com/m/d (0.00s)\n"},
		{"^TestAbsent$", false, "== tests that must run (^TestAbsent$): 0\nnone of them ran\n"},
	} {
		var out bytes.Buffer
		ok, err := summarise(strings.NewReader(d), &out, regexp.MustCompile(c.re))
		if err != nil {
			t.Fatal(err)
		}
		if ok != c.ok || !strings.HasSuffix(out.String(), c.want) {
			t.Errorf("-must-run %s: ok %v, output\n%s\nwant ok %v and the output to end\n%s", c.re, ok, out.String(), c.ok, c.want)
		}
	}
}
