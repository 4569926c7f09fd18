package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/rnnkit/rnnkit/internal/fixture"
	"github.com/rnnkit/rnnkit/internal/parity"
)

const parityAbout = `Reads PyTorch reference fixtures (testdata/fixtures/SCHEMA.md), builds the model each one's
case names from its dims, loads its params, runs forward and backward of its loss, and
compares every output, final state and gradient. One line per file. Exit status 0 when
all pass, 1 when any fails, 2 for a file it cannot read or a case it does not know.
Cases: `

func runParity(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("parity", "FILE...", parityAbout+fmt.Sprint(parity.Cases()), stderr)
	tol := fs.Float64("tol", parity.Tolerance, "largest absolute error that passes")
	verbose := fs.Bool("v", false, "print the error of every compared tensor")
	fused := fs.Bool("fused", false, "build recurrent layers with the fused kernel (cells.Sequence) instead of the step-by-step subgraph")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usageError{"parity: no fixture files given"}
	}
	if err := checks("parity", floatIn("tol", *tol, 0, math.MaxFloat64)); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "fixture\tcase\tmax err outputs/states\tmax err gradients\tresult")
	status, failed := 0, 0
	for _, path := range fs.Args() {
		if err := ctx.Err(); err != nil {
			tw.Flush()
			return err
		}
		f, err := fixture.Read(path)
		if err == nil {
			var res parity.Result
			if res, err = parity.RunWith(f, parity.Options{Fused: *fused}); err == nil {
				verdict := "PASS"
				if !res.Pass(*tol) {
					verdict = "FAIL"
					status = max(status, 1)
					failed++
				}
				fmt.Fprintf(tw, "%s\t%s\t%.3g\t%.3g\t%s\n", name(f, path), res.Case, res.OutErr, res.GradErr, verdict)
				if *verbose {
					for _, d := range res.Diffs {
						fmt.Fprintf(tw, "  %s\t\t%.3g\t\t\n", d.Name, d.MaxAbs)
					}
				}
				continue
			}
		}
		tw.Flush()
		fmt.Fprintf(stderr, "rnnkit parity: %s: %v\n", path, err)
		status = 2
	}
	tw.Flush()
	if failed > 0 {
		fmt.Fprintf(stderr, "rnnkit parity: %d of %d fixtures FAIL: an error beyond -tol %g\n", failed, fs.NArg(), *tol)
	}
	if status != 0 {
		return exitError{code: status}
	}
	return nil
}

func name(f *fixture.File, path string) string {
	if f.Name != "" {
		return f.Name
	}
	return path
}
