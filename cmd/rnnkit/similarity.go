package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/models/word2vec"
)

func init() {
	commands["similarity"] = command{"Spearman's ρ of word vectors' cosines against human word-pair scores (-json)", runSimilarity}
}

func runSimilarity(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("similarity", "",
		"Compares human similarity scores of word pairs (SimLex-999, WordSim-353: lines \"word1 word2\n"+
			"score\", tab- or space-separated, \"#\" comments) with the cosine similarity of the words'\n"+
			"vectors: Spearman's ρ (and Pearson's r). Pairs with a word that has no vector are skipped\n"+
			"and counted. -vectors reads the C tool's text or binary format or safetensors.", stderr)
	vectors := fs.String("vectors", "", "the word vectors")
	pairs := fs.String("pairs", "", "the word-pair file")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if help, err := parseOnlyFlags(fs, args, "similarity"); help || err != nil {
		return err
	}
	if err := checks("similarity", nonEmpty("vectors", *vectors), nonEmpty("pairs", *pairs)); err != nil {
		return err
	}
	v, pf, err := openEval("similarity", *vectors, "pairs", *pairs)
	if err != nil {
		return err
	}
	defer pf.Close()
	res, err := word2vec.Similarity(v, pf)
	if err != nil {
		return errors.Wrapf(err, "-pairs %s", *pairs)
	}
	if *asJSON {
		return errors.Wrap(json.NewEncoder(stdout).Encode(res), "similarity")
	}
	fmt.Fprintf(stdout, "Spearman ρ %.4f   Pearson r %.4f   (%d of %d pairs; %d skipped for unknown words)\n",
		res.Spearman, res.Pearson, res.Used, res.Pairs, res.Skipped)
	return nil
}

// openEval reads the vectors of -vectors and opens the evaluation file of
// the flag named data, for the command cmd.
func openEval(cmd, vectors, data, path string) (*word2vec.Vectors, *os.File, error) {
	if err := inputFile("vectors", vectors); err != nil {
		return nil, nil, errors.Wrap(err, cmd)
	}
	if err := inputFile(data, path); err != nil {
		return nil, nil, errors.Wrap(err, cmd)
	}
	v, _, err := word2vec.ReadVectorsFile(vectors)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "%s: -vectors", cmd)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "%s: -%s", cmd, data)
	}
	return v, f, nil
}
