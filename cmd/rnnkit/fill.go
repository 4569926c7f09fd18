package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/rnnkit/rnnkit/training"
)

func init() {
	commands["fill"] = command{"the most likely words for each [MASK] of a text, by a masked language model (train -preset mlm)", runFill}
}

func runFill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fill", "TEXT...", "Prints, for each [MASK] among the words of TEXT, the -k most likely words of a masked\n"+
		"language model checkpoint (rnnkit train -preset mlm) with their probabilities:\n"+
		"  rnnkit fill -checkpoint run/best.safetensors \"the [MASK] sat on the mat\"", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint file (.safetensors)")
	k := fs.Int("k", 5, "candidates per [MASK]")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if err := checks("fill", intIn("k", *k, 1, 1000)); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usageError{"fill: no text given"}
	}
	text := strings.Join(fs.Args(), " ")
	if !slices.Contains(strings.Fields(text), training.MaskToken) {
		return usageError{fmt.Sprintf("fill: the text %q has no %s word to fill", text, training.MaskToken)}
	}
	tr, m, err := openModel[*training.MLM]("fill", *ckpt, "a masked language model")
	if err != nil {
		return err
	}
	defer tr.Close()
	out, err := m.Fill(text, *k)
	if err != nil {
		return err
	}
	for i, cands := range out {
		fmt.Fprintf(stdout, "[MASK] %d:", i+1)
		for _, c := range cands {
			fmt.Fprintf(stdout, "  %s %.4f", c.Word, c.Prob)
		}
		fmt.Fprintln(stdout)
	}
	return nil
}
