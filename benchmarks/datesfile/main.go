// Command datesfile writes the pairs of a Seq2Seq preset's generated task
// (the dates of date-attention and date-transformer, or the sums of the
// addition presets) as the preset makes them — the same generator, seed,
// count and 90/10 split — into train.txt and test.txt in the book's
// question_answer format, so that a PyTorch reference
// (benchmarks/torch_date_transformer.py) trains on exactly the examples
// rnnkit trains on:
//
//	go run ./benchmarks/datesfile -task date -n 50000 -seed 1 -out /tmp/dates
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training/data"
)

func main() {
	task := flag.String("task", "date", "date or addition")
	n := flag.Int("n", 50000, "examples (90% train, 10% test)")
	seed := flag.Uint64("seed", 1, "the preset's -seed")
	out := flag.String("out", ".", "directory to write train.txt and test.txt into")
	flag.Parse()
	if err := run(*task, *n, *seed, *out); err != nil {
		fmt.Fprintln(os.Stderr, "datesfile:", err)
		os.Exit(1)
	}
}

func run(task string, n int, seed uint64, dir string) error {
	var pairs []data.Pair
	switch task {
	case "date":
		pairs = data.Dates(n, graph.NewSource(seed))
	case "addition":
		pairs = data.Addition(n, graph.NewSource(seed))
	default:
		return fmt.Errorf("-task %q: want date or addition", task)
	}
	if len(pairs) < 2 {
		return fmt.Errorf("-n %d: need at least 2 examples", n)
	}
	train, test := data.Split(pairs, 0.9)
	for name, ps := range map[string][]data.Pair{"train.txt": train, "test.txt": test} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := data.WritePairs(f, ps, 0, 0); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}
