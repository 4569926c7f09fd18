package importcheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// root returns the checkout's root (two folders up).
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", dir, err)
	}
	return dir
}

// touchSources reads every Go source and go.mod/go.sum of the checkout,
// so that go test's cache, which tracks the files a test opens, runs this
// test again whenever any of them changes (the go command it starts reads
// them behind go test's back).
func touchSources(t *testing.T, src string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != src && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if name := d.Name(); !d.IsDir() && (strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".s") || name == "go.mod" || name == "go.sum") {
			if _, err := os.ReadFile(path); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d source files read", n)
}

const userMain = `package main

import (
	"fmt"
	"os"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/graph"
)

// Add(a5187, y) and Add(a31119, y) collide in Gorgonia v0.9.18: built
// with graph.New alone they are one node (6 nodes with the reads); built
// with graph.Build they are two (7), and compute a + y and b + y.
func main() {
	ps, _ := graph.NewParams(tensor.Float64)
	type pair struct{ va, vb gorgonia.Value }
	build := func(g *graph.Graph) (*pair, error) {
		p := &pair{}
		y, _ := g.Input("y", 2, 2)
		a, _ := g.Input("a5187", 2, 2)
		b, _ := g.Input("a31119", 2, 2)
		for n, v := range map[*gorgonia.Node]float64{y: 1, a: 10, b: 20} {
			if err := graph.Set(n, []float64{v, v, v, v}); err != nil {
				return nil, err
			}
		}
		sa, err := gorgonia.Add(a, y)
		if err != nil {
			return nil, err
		}
		sb, err := gorgonia.Add(b, y)
		if err != nil {
			return nil, err
		}
		gorgonia.Read(sa, &p.va)
		gorgonia.Read(sb, &p.vb)
		return p, nil
	}
	g0, _ := graph.New(ps)
	if _, err := build(g0); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("nodes with graph.New:", len(g0.ExprGraph().AllNodes()))
	g, p, err := graph.Build(ps, build)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("nodes with graph.Build:", len(g.ExprGraph().AllNodes()))
	m, err := graph.NewMachine(g)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	defer m.Close()
	if err := graph.Run(m); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	a, _ := graph.ValueFloat64s(p.va)
	b, _ := graph.ValueFloat64s(p.vb)
	fmt.Println("a+y:", a, "b+y:", b)
}
`

// TestImportFromAnotherModule: a user's module requires rnnkit with no
// replace of Gorgonia, gets released v0.9.18, runs `rnnkit parity` on a
// PyTorch fixture (PASS) and a program whose two sums collide in
// Gorgonia's hash (right values through graph.Build).
func TestImportFromAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a second module with the go command (skipped with -short)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH: %v", err)
	}
	src := root(t)
	touchSources(t, src)
	dir := t.TempDir()
	gomod := "module example.com/user\n\ngo 1.26\n\nrequire github.com/rnnkit/rnnkit v0.0.0\n\nreplace github.com/rnnkit/rnnkit => " + src + "\n"
	sum, err := os.ReadFile(filepath.Join(src, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum, "main.go": []byte(userMain)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("mod", "tidy")
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mod), "gorgonia.org/gorgonia =>") {
		t.Fatalf("the user's go.mod replaces Gorgonia:\n%s", mod)
	}
	if v := strings.TrimSpace(run("list", "-m", "-f", "{{.Version}} {{.Replace}}", "gorgonia.org/gorgonia")); v != "v0.9.18 <nil>" {
		t.Fatalf("the user's module builds against Gorgonia %q, want released v0.9.18", v)
	}
	fixture := filepath.Join(src, "testdata", "fixtures", "lstm.json")
	out := run("run", "github.com/rnnkit/rnnkit/cmd/rnnkit", "parity", fixture)
	t.Logf("rnnkit parity, from the user's module:\n%s", out)
	if !strings.Contains(out, "PASS") || strings.Contains(out, "FAIL") {
		t.Fatalf("parity did not pass:\n%s", out)
	}
	out = run("run", ".")
	t.Logf("the user's program:\n%s", out)
	for _, want := range []string{"nodes with graph.New: 6", "nodes with graph.Build: 7", "a+y: [11 11 11 11] b+y: [21 21 21 21]"} {
		if !strings.Contains(out, want) {
			t.Fatalf("the user's program printed\n%s\nwant a line with %q", out, want)
		}
	}
}
