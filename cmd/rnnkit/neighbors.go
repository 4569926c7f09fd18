package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/models/word2vec"
)

func init() {
	commands["neighbors"] = command{"the nearest words of words by the cosine of their vectors", runNeighbors}
}

func runNeighbors(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("neighbors", "WORD...",
		"Prints the -n words nearest to each WORD by the cosine similarity of their vectors (as\n"+
			"word2vec's distance tool). -vectors reads the C tool's text or binary format or safetensors.", stderr)
	vectors := fs.String("vectors", "", "the word vectors")
	n := fs.Int("n", 10, "neighbours per word")
	asJSON := fs.Bool("json", false, "print one JSON object: word → neighbours")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if err := checks("neighbors", nonEmpty("vectors", *vectors), intIn("n", *n, 1, 1_000_000)); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"neighbors: no WORD given"}
	}
	if err := inputFile("vectors", *vectors); err != nil {
		return errors.Wrap(err, "neighbors")
	}
	v, _, err := word2vec.ReadVectorsFile(*vectors)
	if err != nil {
		return errors.Wrap(err, "neighbors: -vectors")
	}
	all := map[string][]word2vec.Neighbor{}
	for _, w := range fs.Args() {
		nb, err := v.Neighbors(w, *n)
		if err != nil {
			return errors.Wrap(err, "neighbors")
		}
		if *asJSON {
			all[w] = nb
			continue
		}
		fmt.Fprintf(stdout, "%s:\n", w)
		for _, x := range nb {
			fmt.Fprintf(stdout, "  %-24s %.4f\n", x.Word, x.Similarity)
		}
	}
	if *asJSON {
		return errors.Wrap(json.NewEncoder(stdout).Encode(all), "neighbors")
	}
	return nil
}
