package graph

import (
	"errors"
	"fmt"
	"hash"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"weak"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/internal/opkit"
)

func TestNewMachineRecoversCompilePanic(t *testing.T) {
	if _, err := NewMachine(nil); err == nil {
		t.Fatal("NewMachine(nil) accepted")
	}

	// Gorgonia itself panics on these graphs (GORGONIA.md trap 6).
	func() {
		defer func() {
			if recover() == nil {
				t.Error("gorgonia.NewTapeMachine of an empty graph no longer panics; " +
					"NewMachine's recover may be unneeded")
			}
		}()
		gorgonia.NewTapeMachine(gorgonia.NewGraph())
	}()

	empty := mustGraph(t, mustParams(t, tensor.Float64))
	constOnly := mustGraph(t, mustParams(t, tensor.Float32))
	constOnly.Scalar(3)
	for _, c := range []struct {
		name, msg string
		g         *Graph
	}{
		{"empty graph", "empty graph", empty},
		{"constants only", "no input nodes", constOnly},
	} {
		m, err := NewMachine(c.g)
		if !errors.Is(err, ErrMachine) {
			t.Errorf("%s: err %v, want ErrMachine", c.name, err)
			continue
		}
		if m != nil {
			t.Errorf("%s: a machine came back with the error", c.name)
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %q does not carry Gorgonia's reason %q", c.name, err, c.msg)
		}
	}
}

func TestRunNil(t *testing.T) {
	if err := Run(nil); err == nil {
		t.Fatal("Run(nil) accepted")
	}
}

func TestRunShapeFailure(t *testing.T) {
	p := mustParams(t, tensor.Float64)
	if _, err := p.New("w", 3, 4); err != nil {
		t.Fatal(err)
	}
	g := mustGraph(t, p)
	w := must(t)(g.Param("w", 3, 4))
	x := must(t)(g.Input("x", 2, 3))
	y := must(t)(gorgonia.Mul(x, w))
	var yv gorgonia.Value
	gorgonia.Read(y, &yv)
	m := mustMachine(t, g)
	mustRun(t, m)
	if got := yv.Shape(); !reflect.DeepEqual([]int(got), []int{2, 4}) {
		t.Fatalf("x·w has shape %v", got)
	}

	// gorgonia.Let refuses a value of the wrong shape up front.
	if err := gorgonia.Let(x, tensor.New(tensor.WithShape(3, 2), tensor.Of(tensor.Float64))); err == nil {
		t.Fatal("gorgonia.Let accepted a [3,2] value for a [2,3] input")
	}
	// A value that changes shape behind the graph's back fails at run time.
	if err := x.Value().(*tensor.Dense).Reshape(3, 2); err != nil {
		t.Fatal(err)
	}
	m.Reset()
	err := Run(m)
	if !errors.Is(err, ErrMachine) {
		t.Fatalf("Run with a [3,2] input to a [2,3]·[3,4] product: %v, want ErrMachine", err)
	}
	if !strings.Contains(err.Error(), "running") || !strings.Contains(err.Error(), "Shape mismatch") {
		t.Fatalf("error lacks context or Gorgonia's reason: %v", err)
	}
}

// failOp is an op whose Do returns an error, or panics.
type failOp struct{ panics bool }

func (failOp) Arity() int { return 1 }
func (failOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}
func (failOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op failOp) Do(...gorgonia.Value) (gorgonia.Value, error) {
	if op.panics {
		panic("failOp panics in Do")
	}
	return nil, errors.New("failOp fails in Do")
}
func (failOp) ReturnsPtr() bool         { return false }
func (failOp) CallsExtern() bool        { return false }
func (failOp) OverwritesInput() int     { return -1 }
func (op failOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "failOp(%v)", op.panics) }
func (op failOp) Hashcode() uint32      { return opkit.Hash(op) }
func (op failOp) String() string        { return fmt.Sprintf("failOp(%v)", op.panics) }

func TestRunOpError(t *testing.T) {
	g := mustGraph(t, mustParams(t, tensor.Float64))
	x := must(t)(g.Input("x", 2))
	must(t)(gorgonia.ApplyOp(failOp{}, x))
	m := mustMachine(t, g)
	err := Run(m)
	if !errors.Is(err, ErrMachine) || !strings.Contains(err.Error(), "failOp fails in Do") {
		t.Fatalf("Run of a failing op: %v, want ErrMachine with the op's error", err)
	}
}

// TestRunCannotRecoverOpPanic documents a Gorgonia behaviour that Run's doc
// comment misses: the TapeMachine runs the tape on a goroutine of its own, so
// a panic inside an op's Do kills the process; Run's recover never sees it.
// The test runs the panicking graph in a child process.
func TestRunCannotRecoverOpPanic(t *testing.T) {
	const env = "RNNKIT_GRAPH_TEST_PANIC_CHILD"
	if os.Getenv(env) == "1" {
		g := mustGraph(t, mustParams(t, tensor.Float64))
		x := must(t)(g.Input("x", 2))
		must(t)(gorgonia.ApplyOp(failOp{panics: true}, x))
		m := mustMachine(t, g)
		err := Run(m)
		fmt.Printf("CHILD: Run returned %v\n", err)
		os.Exit(0)
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunCannotRecoverOpPanic$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("a panicking op no longer kills the process (Run returned an error?):\n%s\n"+
			"Gorgonia now recovers op panics or runs them on the caller's goroutine", out)
	}
	if !strings.Contains(string(out), "failOp panics in Do") {
		t.Fatalf("child failed for another reason (%v):\n%s", err, out)
	}
}

// TestGradientAccumulation documents GORGONIA.md trap 3 as Gorgonia v0.9.18
// behaves:
//   - RunAll without Reset does nothing (the program counter stays at the end);
//   - without BindDualValues, each Reset+RunAll recomputes the gradient;
//   - with BindDualValues, the gradient is added to the parameter's dual
//     value on every Reset+RunAll, until a solver's Step zeroes it.
func TestGradientAccumulation(t *testing.T) {
	for _, bind := range []bool{false, true} {
		p := mustParams(t, tensor.Float64)
		if _, err := p.New("w", 3); err != nil {
			t.Fatal(err)
		}
		if err := p.SetFloat64s("w", []float64{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		g := mustGraph(t, p)
		w := must(t)(g.Param("w", 3))
		x := must(t)(g.Input("x", 3))
		cost := must(t)(gorgonia.Sum(must(t)(gorgonia.HadamardProd(x, w))))
		if _, err := gorgonia.Grad(cost, w); err != nil {
			t.Fatal(err)
		}
		var cv gorgonia.Value
		gorgonia.Read(cost, &cv)
		var opts []gorgonia.VMOpt
		if bind {
			opts = append(opts, gorgonia.BindDualValues(g.Learnables()...))
		}
		m := mustMachine(t, g, opts...)
		check := func(step string, wantCost float64, wantGrad []float64) {
			t.Helper()
			gv, err := w.Grad()
			if err != nil {
				t.Fatalf("bind=%v %s: w.Grad: %v", bind, step, err)
			}
			if c := values(t, cv)[0]; c != wantCost {
				t.Errorf("bind=%v %s: cost %v, want %v", bind, step, c, wantCost)
			}
			if got := values(t, gv); !reflect.DeepEqual(got, wantGrad) {
				t.Errorf("bind=%v %s: gradient %v, want %v", bind, step, got, wantGrad)
			}
		}

		if err := Set(x, []float64{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		mustRun(t, m)
		check("first run", 14, []float64{1, 2, 3})

		if err := Set(x, []float64{10, 20, 30}); err != nil {
			t.Fatal(err)
		}
		mustRun(t, m) // no Reset: nothing runs
		check("second run without Reset (a no-op)", 14, []float64{1, 2, 3})

		m.Reset()
		mustRun(t, m)
		if bind {
			check("Reset+run (accumulates)", 140, []float64{11, 22, 33})
		} else {
			check("Reset+run (recomputed)", 140, []float64{10, 20, 30})
		}
		m.Reset()
		mustRun(t, m)
		if bind {
			check("second Reset+run (accumulates)", 140, []float64{21, 42, 63})
		} else {
			check("second Reset+run (recomputed)", 140, []float64{10, 20, 30})
		}

		// A solver step zeroes the gradients it used.
		s := gorgonia.NewVanillaSolver(gorgonia.WithLearnRate(0))
		if err := s.Step(gorgonia.NodesToValueGrads(g.Learnables())); err != nil {
			t.Fatal(err)
		}
		check("after solver Step", 140, []float64{0, 0, 0})
		m.Reset()
		mustRun(t, m)
		check("Reset+run after Step", 140, []float64{10, 20, 30})
		if got := tensorValues(t, mustLookup(t, p, "w", 3)); !reflect.DeepEqual(got, []float64{1, 2, 3}) {
			t.Errorf("bind=%v: a zero learning rate changed w to %v", bind, got)
		}
	}
}

func mustLookup(t *testing.T, p *Params, name string, shape ...int) *tensor.Dense {
	t.Helper()
	x, err := p.Lookup(name, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestSolverUpdatesParams checks that a solver stepping a machine writes into
// the Params' own tensors, visible to a second graph over the same Params.
func TestSolverUpdatesParams(t *testing.T) {
	p := mustParams(t, tensor.Float64)
	if _, err := p.New("w", 2); err != nil {
		t.Fatal(err)
	}
	if err := p.SetFloat64s("w", []float64{1, -1}); err != nil {
		t.Fatal(err)
	}
	g := mustGraph(t, p)
	w := must(t)(g.Param("w", 2))
	x := must(t)(g.Input("x", 2))
	if err := Set(x, []float64{3, 5}); err != nil {
		t.Fatal(err)
	}
	cost := must(t)(gorgonia.Sum(must(t)(gorgonia.HadamardProd(x, w))))
	if _, err := gorgonia.Grad(cost, g.Learnables()...); err != nil {
		t.Fatal(err)
	}
	m := mustMachine(t, g, gorgonia.BindDualValues(g.Learnables()...))
	mustRun(t, m)
	s := gorgonia.NewVanillaSolver(gorgonia.WithLearnRate(0.5))
	if err := s.Step(gorgonia.NodesToValueGrads(g.Learnables())); err != nil {
		t.Fatal(err)
	}
	want := []float64{1 - 0.5*3, -1 - 0.5*5}
	if got := tensorValues(t, mustLookup(t, p, "w", 2)); !reflect.DeepEqual(got, want) {
		t.Fatalf("after one SGD step the Params hold %v, want %v", got, want)
	}

	g2 := mustGraph(t, p)
	w2 := must(t)(g2.Param("w", 2))
	if got := values(t, w2.Value()); !reflect.DeepEqual(got, want) {
		t.Fatalf("a second graph sees %v, want %v", got, want)
	}
}

// A machine on a cycle — its graph reads a value into a struct that also
// holds the machine, as every compiled training graph does — is collected
// once nothing else reaches it. Gorgonia's finalizer on tape machines kept
// such cycles alive for the life of the process.
func TestMachineCycleCollected(t *testing.T) {
	type compiled struct {
		vm   gorgonia.VM
		loss gorgonia.Value
	}
	var gone weak.Pointer[compiled]
	func() {
		p := mustParams(t, tensor.Float64)
		if err := p.Add("w", tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{1, 2, 3, 4}))); err != nil {
			t.Fatal(err)
		}
		c := &compiled{}
		g, _, err := Build(p, func(g *Graph) (int, error) {
			w, err := g.Param("w", 2, 2)
			if err != nil {
				return 0, err
			}
			loss, err := gorgonia.Sum(w)
			if err != nil {
				return 0, err
			}
			gorgonia.Read(loss, &c.loss)
			return 0, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if c.vm, err = NewMachine(g); err != nil {
			t.Fatal(err)
		}
		if err := Run(c.vm); err != nil {
			t.Fatal(err)
		}
		if v, err := ValueFloat64s(c.loss); err != nil || v[0] != 10 {
			t.Fatalf("loss %v (%v), want 10", v, err)
		}
		gone = weak.Make(c)
	}()
	for i := 0; i < 5 && gone.Value() != nil; i++ {
		runtime.GC()
	}
	if gone.Value() != nil {
		t.Fatal("a compiled graph on a cycle through its machine is still reachable after 5 collections")
	}
}
