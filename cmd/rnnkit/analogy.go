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
	commands["analogy"] = command{"word-analogy accuracy of word vectors, as word2vec's compute-accuracy (-json)", runAnalogy}
}

// analogyJSON is analogy's -json output.
type analogyJSON struct {
	Accuracy  float64                            `json:"accuracy"`
	Semantic  float64                            `json:"semantic"`
	Syntactic float64                            `json:"syntactic"`
	Correct   int                                `json:"correct"`
	Seen      int                                `json:"seen"`
	Total     int                                `json:"total"`
	Restrict  int                                `json:"restrict"`
	Sections  map[string]word2vec.AnalogySection `json:"sections"`
}

func runAnalogy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("analogy", "",
		"Answers word-analogy questions (\"a b c d\": a is to b as c is to d; sections start with\n"+
			"\": name\", as questions-words.txt) by the word nearest to b − a + c among the first\n"+
			"-restrict words, as word2vec's compute-accuracy: words compared in upper case, questions\n"+
			"with a word outside the restricted vocabulary skipped and counted (seen / total), the\n"+
			"first five sections semantic and the others syntactic. Accuracies are fractions of the\n"+
			"questions seen. -vectors reads the C tool's text or binary format or safetensors.", stderr)
	vectors := fs.String("vectors", "", "the word vectors")
	questions := fs.String("questions", "", "the questions file")
	restrict := fs.Int("restrict", 30000, "use only the first (most frequent) words; 0: all")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if help, err := parseOnlyFlags(fs, args, "analogy"); help || err != nil {
		return err
	}
	if err := checks("analogy", nonEmpty("vectors", *vectors), nonEmpty("questions", *questions),
		intIn("restrict", *restrict, 0, word2vec.MaxWords)); err != nil {
		return err
	}
	v, qf, err := openEval("analogy", *vectors, "questions", *questions)
	if err != nil {
		return err
	}
	defer qf.Close()
	res, err := word2vec.Analogy(v, qf, *restrict)
	if err != nil {
		return errors.Wrapf(err, "-questions %s", *questions)
	}
	if *asJSON {
		out := analogyJSON{Accuracy: res.Accuracy, Semantic: res.Semantic, Syntactic: res.Syntactic, Correct: res.Correct,
			Seen: res.Seen, Total: res.Total, Restrict: res.Restrict, Sections: map[string]word2vec.AnalogySection{}}
		for _, s := range res.Sections {
			out.Sections[s.Name] = s
		}
		enc := json.NewEncoder(stdout)
		return errors.Wrap(enc.Encode(out), "analogy")
	}
	for _, s := range res.Sections {
		fmt.Fprintf(stdout, "%-28s %6.2f %%  (%d / %d seen, %d questions)\n", s.Name+":", 100*s.Accuracy, s.Correct, s.Seen, s.Total)
	}
	fmt.Fprintf(stdout, "Total accuracy: %.2f %%   Semantic accuracy: %.2f %%   Syntactic accuracy: %.2f %%\n",
		100*res.Accuracy, 100*res.Semantic, 100*res.Syntactic)
	fmt.Fprintf(stdout, "Questions seen / total: %d %d   %.2f %%   (vocabulary: the first %d words)\n",
		res.Seen, res.Total, 100*float64(res.Seen)/float64(max(res.Total, 1)), res.Restrict)
	return nil
}
