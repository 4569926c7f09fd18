package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// maxSentences bounds sample's -n and -steps for sentence models.
const maxSentences = 10_000

// sample serves two families: a character language model (-prime,
// -length: runSample) and the sentence models of the VAE family (-n,
// -reconstruct, -interpolate: runSampleSentences). A checkpoint of the VAE
// family, or a flag only the sentence models have, picks the second.
func init() {
	commands["sample"] = command{"generate text from a language model checkpoint, or sentences from a sentence VAE (prior samples, -reconstruct, -interpolate)", runSampleAny}
}

// sentenceFlags are the flags only sample's sentence mode has.
var sentenceFlags = []string{"n", "reconstruct", "interpolate", "steps", "maxlen", "no-unk"}

func runSampleAny(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sentences := false
	for i, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || a == "--" {
			continue
		}
		for _, f := range sentenceFlags {
			sentences = sentences || name == f
		}
		if name == "checkpoint" {
			if !hasValue && i+1 < len(args) {
				value = args[i+1]
			}
			sentences = sentences || sampleCheckpointKind(value) == training.VAEKind
		}
	}
	if sentences {
		return runSampleSentences(ctx, args, stdout, stderr)
	}
	err := runSample(ctx, args, stdout, stderr)
	for _, a := range args {
		if err == nil && (a == "-h" || a == "-help" || a == "--help" || a == "--h") {
			fmt.Fprintln(stderr, "\nWith a checkpoint of the sentence family (sentence-vae, sentence-lm) sample draws sentences instead:\n"+
				"  rnnkit sample -checkpoint F [-n 10] [-seed S] [-temperature T]\n"+
				"  rnnkit sample -checkpoint F -reconstruct \"a sentence\"\n"+
				"  rnnkit sample -checkpoint F -interpolate \"first sentence\" \"second sentence\" -steps 5\n"+
				"('rnnkit sample -n 1 -h' lists those flags.)")
			break
		}
	}
	return err
}

// checkpointKind returns the model kind of the checkpoint at path, "" when
// it cannot be read (the command that opens it says why).
func sampleCheckpointKind(path string) string {
	if inputFile("checkpoint", path) != nil {
		return ""
	}
	c, err := checkpoint.Load(path)
	if err != nil {
		return ""
	}
	return c.Meta.Extra[training.KindKey]
}

// parseInterleaved parses args with fs, taking the arguments that are not
// flags wherever they stand (flags may follow them), and returns them.
func parseInterleaved(fs *flag.FlagSet, args []string) (help bool, pos []string, err error) {
	rest := args
	for {
		if help, err := parseFlags(fs, rest); help || err != nil {
			return help, nil, err
		}
		rest = fs.Args()
		if len(rest) == 0 {
			return false, pos, nil
		}
		pos, rest = append(pos, rest[0]), rest[1:]
	}
}

func runSampleSentences(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sample", "[-interpolate \"first sentence\" \"second sentence\"]",
		"Generates sentences from a checkpoint of the sentence family (rnnkit train -preset sentence-vae\n"+
			"or sentence-lm): -n sentences from the prior (z ~ N(0, I), drawn with -seed), or with\n"+
			"-reconstruct the decoding of a sentence's posterior mean, or with -interpolate the\n"+
			"decodings of -steps codes evenly spaced from the first sentence's posterior mean to the\n"+
			"second's, both included. Greedy decoding unless -temperature (or -topk, -topp) samples.\n"+
			"A language-model checkpoint (charlm) takes -prime and -length instead.", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint file (.safetensors)")
	n := fs.Int("n", 10, "sentences to draw from the prior")
	recon := fs.String("reconstruct", "", "a sentence to encode and decode")
	interp := fs.Bool("interpolate", false, "interpolate between the two sentences given as arguments")
	steps := fs.Int("steps", 5, "codes on the interpolation's line, both ends included")
	maxLen := fs.Int("maxlen", training.VAEMaxLen, "longest sentence, in tokens")
	vaeNoUNK := fs.Bool("no-unk", false, "never generate <unk> (with a small vocabulary greedy decoding repeats it)")
	var smp sampling
	smp.flags(fs, 0, "sample at this temperature (0: greedy)", "words")
	help, pos, err := parseInterleaved(fs, args)
	if help || err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if err := checks("sample", append(smp.check(), intIn("n", *n, 1, maxSentences), intIn("steps", *steps, 2, maxSentences),
		intIn("maxlen", *maxLen, 1, maxDecode))...); err != nil {
		return err
	}
	switch {
	case *interp && len(pos) != 2:
		return usageError{fmt.Sprintf("sample: -interpolate takes two sentences as arguments, got %d", len(pos))}
	case !*interp && len(pos) > 0:
		return usageError{fmt.Sprintf("sample: unexpected argument %q (sentences go with -interpolate)", pos[0])}
	case *interp && given["reconstruct"]:
		return usageError{"sample: -interpolate and -reconstruct exclude each other"}
	case given["reconstruct"] && strings.TrimSpace(*recon) == "":
		return usageError{"sample: -reconstruct has no words"}
	case given["steps"] && !*interp:
		return usageError{"sample: -steps applies only with -interpolate"}
	case given["n"] && (*interp || given["reconstruct"]):
		return usageError{"sample: -n applies only to samples from the prior"}
	}
	for i, s := range pos {
		if strings.TrimSpace(s) == "" {
			return usageError{fmt.Sprintf("sample: -interpolate: sentence %d has no words", i+1)}
		}
	}
	o := training.VAEGenOptions{MaxLen: *maxLen, Sample: smp.options(true), NoUNK: *vaeNoUNK}
	tr, m, err := openModel[*training.VAE]("sample", *ckpt, "a sentence model (sentence-vae, sentence-lm) or, without -n, -reconstruct and -interpolate, a language model")
	if err != nil {
		return err
	}
	defer tr.Close()
	var out []string
	switch {
	case *interp:
		out, err = m.Interpolate(pos[0], pos[1], *steps, o)
	case given["reconstruct"]:
		var s string
		s, err = m.Reconstruct(*recon, o)
		out = []string{s}
	default:
		out, err = m.SamplePrior(*n, o, graph.NewSource(smp.seed^0x9e3779b97f4a7c15))
	}
	if err != nil {
		return errors.Wrap(err, "sample")
	}
	for _, s := range out {
		fmt.Fprintln(stdout, s)
	}
	return ctx.Err()
}
