package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/data"
)

func loadModel(path string) (*training.Seq2Seq, error) {
	if path == "" {
		return nil, usageError{"-checkpoint FILE is required"}
	}
	c, err := checkpoint.Load(path)
	if err != nil {
		return nil, err
	}
	return training.FromCheckpoint(c)
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "", "Evaluates a trained Seq2Seq checkpoint on a file of question_answer lines (the\n"+
		"book's format): mean test loss, exact match and token accuracy of greedy decoding.", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint file (.safetensors)")
	dataPath := fs.String("data", "", "question_answer file")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *dataPath == "" || fs.NArg() != 0 {
		return usageError{"eval: -checkpoint FILE and -data FILE are required, and nothing else"}
	}
	tr, err := loadModel(*ckpt)
	if err != nil {
		return err
	}
	defer tr.Close()
	f, err := os.Open(*dataPath)
	if err != nil {
		return errors.Wrap(err, "eval")
	}
	pairs, err := data.ReadPairs(f)
	f.Close()
	if err != nil {
		return errors.Wrapf(err, "eval: %s", *dataPath)
	}
	e, err := tr.Encode(pairs)
	if err != nil {
		return err
	}
	loss, exact, acc, _, err := tr.Evaluate(e)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d pairs: loss %.4f, exact match %.2f%%, token accuracy %.2f%%\n", len(pairs), loss, 100*exact, 100*acc)
	return nil
}

func runTranslate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("translate", "", "Reads questions from standard input, one per line, and writes the answers of a\n"+
		"trained Seq2Seq checkpoint: greedy by default, beam search with -beam, sampling with\n"+
		"-temperature (and -topk, -topp, -seed).", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint file (.safetensors)")
	beam := fs.Int("beam", 0, "beam width (0: greedy or sampling)")
	temp := fs.Float64("temperature", 0, "sample at this temperature (0: greedy)")
	topk := fs.Int("topk", 0, "sample from the k most likely tokens (0: all)")
	topp := fs.Float64("topp", 0, "sample from the smallest set of tokens whose probability reaches p (0: all)")
	seed := fs.Uint64("seed", 1, "seed of the sampler")
	maxLen := fs.Int("maxlen", 0, "longest answer (0: 4 × the question + 8)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Sprintf("translate: unexpected argument %q", fs.Arg(0))}
	}
	if *beam < 0 || *temp < 0 || *topk < 0 || *topp < 0 || *topp > 1 || *maxLen < 0 {
		return usageError{"translate: -beam, -temperature, -topk, -maxlen must not be negative and -topp must be in [0, 1]"}
	}
	if *beam > 0 && (*temp > 0 || *topk > 0 || *topp > 0) {
		return usageError{"translate: -beam and sampling flags exclude each other"}
	}
	tr, err := loadModel(*ckpt)
	if err != nil {
		return err
	}
	defer tr.Close()
	var so *decode.SampleOptions
	if *temp > 0 || *topk > 0 || *topp > 0 {
		t := *temp
		if t == 0 {
			t = 1
		}
		so = &decode.SampleOptions{Temperature: t, TopK: *topk, TopP: *topp, Source: graph.NewSource(*seed)}
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		if err := ctx.Err(); err != nil {
			return err
		}
		q := strings.TrimRight(sc.Text(), " \r")
		if q == "" {
			fmt.Fprintln(stdout)
			continue
		}
		out, err := tr.TranslateWith(q, decode.Options{MaxLen: *maxLen}, so, *beam)
		if err != nil {
			return errors.Wrapf(err, "translate: line %d", line)
		}
		fmt.Fprintln(stdout, out[0])
	}
	return errors.Wrap(sc.Err(), "translate: reading standard input")
}

// stdin is where translate reads questions (a variable for tests).
var stdin io.Reader = os.Stdin
