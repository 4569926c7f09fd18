package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/data"
)

func init() {
	commands["fill"] = command{"the likeliest words for each [MASK] of a sentence, by a masked language model", runFill}
}

const fillAbout = "Prints, for each [MASK] in each QUERY, the -k words a masked language model\n" +
	"(a checkpoint of rnnkit train -preset mlm) finds likeliest there, with their probabilities,\n" +
	"and the query with every [MASK] replaced by its best word. A query is a sentence, words\n" +
	"separated by spaces, with [MASK] where a word is to be filled: \"the [MASK] sat on the mat\".\n" +
	"Fillers are the vocabulary's words (never <unk> or [MASK]); their probabilities are the\n" +
	"model's over its whole vocabulary. Words the vocabulary lacks are read as <unk> and listed."

// maxFillK bounds -k.
const maxFillK = 1000

// fillSlot is one [MASK]'s fillers.
type fillSlot struct {
	Position int          `json:"position"` // the word's index in the query, from 0
	Fillers  []fillerJSON `json:"fillers"`
}

type fillerJSON struct {
	Word string  `json:"word"`
	P    float64 `json:"p"`
}

// fillResult is one query's answer (-json prints a list of them).
type fillResult struct {
	Query   string     `json:"query"`
	Unknown []string   `json:"unknown"`
	Masks   []fillSlot `json:"masks"`
	Best    string     `json:"best"`
}

func runFill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fill", "QUERY...", fillAbout, stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint of a masked language model (.safetensors)")
	k := fs.Int("k", 5, "fillers to print for each [MASK]")
	asJSON := fs.Bool("json", false, "print a JSON list: per query its unknown words and each [MASK]'s fillers")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if err := checks("fill", nonEmpty("checkpoint", *ckpt), intIn("k", *k, 1, maxFillK)); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"fill: no query given: a sentence with [MASK] where a word is to be filled, \"the [MASK] sat on the mat\""}
	}
	for _, q := range fs.Args() {
		ws := training.MLMTokens(q, false)
		if len(ws) == 0 {
			return usageError{"fill: an empty query"}
		}
		if !slices.Contains(ws, training.MaskToken) {
			return usageError{fmt.Sprintf("fill: query %q holds no %s: write %s where a word is to be filled", q, training.MaskToken, training.MaskToken)}
		}
	}
	if err := inputFile("checkpoint", *ckpt); err != nil {
		return errors.Wrap(err, "fill")
	}
	tr, m, err := openModel[*training.MLM]("fill", *ckpt, "a masked language model (rnnkit train -preset mlm)")
	if err != nil {
		return err
	}
	defer tr.Close()
	seqs := make([][]int, fs.NArg())
	results := make([]fillResult, fs.NArg())
	for i, q := range fs.Args() {
		ids, unknown := m.Encode(q)
		if longest := m.Cfg.Model.MaxLen; len(ids) > longest {
			return errors.Errorf("fill: query %q has %d words, the model reads at most %d", q, len(ids), longest)
		}
		seqs[i] = ids
		results[i] = fillResult{Query: q, Unknown: unknown}
		if unknown == nil {
			results[i].Unknown = []string{}
		}
	}
	set, err := m.Queries(seqs)
	if err != nil {
		return errors.Wrap(err, "fill")
	}
	if _, err := tr.Evaluate(ctx, set); err != nil {
		return errors.Wrap(err, "fill")
	}
	for i, q := range fs.Args() {
		words := training.MLMTokens(q, false)
		best := slices.Clone(words)
		probs := set.Probs(i)
		slot := 0
		for t, id := range seqs[i] {
			if id != training.MaskID {
				continue
			}
			fill := fillSlot{Position: t}
			for _, c := range m.Fillers(probs[slot], *k) {
				tok, err := m.Vocab.Token(c.ID)
				if err != nil {
					return errors.Wrap(err, "fill")
				}
				fill.Fillers = append(fill.Fillers, fillerJSON{Word: tok, P: c.P})
			}
			best[t] = fill.Fillers[0].Word
			results[i].Masks = append(results[i].Masks, fill)
			slot++
		}
		results[i].Best = strings.Join(best, " ")
	}
	if *asJSON {
		return errors.Wrap(json.NewEncoder(stdout).Encode(results), "fill")
	}
	for _, r := range results {
		fmt.Fprintln(stdout, r.Query)
		if len(r.Unknown) > 0 {
			fmt.Fprintf(stdout, "  not in the vocabulary, read as %s: %s\n", data.UNKToken, strings.Join(r.Unknown, " "))
		}
		for _, s := range r.Masks {
			parts := make([]string, len(s.Fillers))
			for j, f := range s.Fillers {
				parts[j] = fmt.Sprintf("%s %.4f", f.Word, f.P)
			}
			fmt.Fprintf(stdout, "  %s at word %d: %s\n", training.MaskToken, s.Position+1, strings.Join(parts, ", "))
		}
		fmt.Fprintf(stdout, "  → %s\n", r.Best)
	}
	return nil
}
