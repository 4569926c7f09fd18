package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/hred"
	"github.com/rnnkit/rnnkit/training"
)

func init() {
	commands["chat"] = command{"keep a conversation on standard input with a trained dialogue checkpoint (dialog-* presets)", runChat}
}

func runChat(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("chat", "", "Keeps a conversation with a trained dialogue checkpoint (rnnkit train -preset dialog-hred, …):\n"+
		"each line of standard input is your utterance, and the model's reply to the dialogue so\n"+
		"far (the last -max-context utterances the model was trained with) is written as a line of\n"+
		"standard output. An empty line starts a new conversation. Greedy by default, beam search\n"+
		"with -beam, sampling with -temperature (and -topk, -topp, -seed); a VHRED model uses the\n"+
		"prior's mean z unless -sample-z draws it (seeded by -seed).", stderr)
	ckpt := fs.String("checkpoint", "", "checkpoint file (.safetensors)")
	beam := fs.Int("beam", 0, "beam width (0: greedy or sampling)")
	maxLen := fs.Int("maxlen", 0, "longest reply in tokens (0: 40)")
	sampleZ := fs.Bool("sample-z", false, "draw VHRED's z from the prior instead of taking its mean")
	var smp sampling
	smp.flags(fs, 0, "sample at this temperature (0: greedy)", "words")
	if help, err := parseOnlyFlags(fs, args, "chat"); help || err != nil {
		return err
	}
	if err := checks("chat", append(smp.check(), intIn("beam", *beam, 0, maxBeam), intIn("maxlen", *maxLen, 0, maxDecode))...); err != nil {
		return err
	}
	so := smp.options(true)
	if *beam > 0 && so != nil {
		return usageError{"chat: -beam and sampling flags exclude each other"}
	}
	tr, m, err := openModel[*training.Dialog]("chat", *ckpt, "a dialogue model")
	if err != nil {
		return err
	}
	defer tr.Close()
	if *sampleZ && m.Cfg.Model.Kind != hred.VHRED {
		return usageError{fmt.Sprintf("chat: -sample-z applies only to a vhred model, not %s", m.Cfg.Model.Kind)}
	}
	zsrc := graph.NewSource(smp.seed)
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	var history []string
	for line := 1; sc.Scan(); line++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		u := strings.Join(strings.Fields(sc.Text()), " ")
		if u == "" {
			history = nil
			fmt.Fprintln(stdout)
			continue
		}
		history = append(history, u)
		opt := training.ReplyOptions{Decode: decode.Options{MaxLen: *maxLen}, Sample: so, Beam: *beam}
		if *sampleZ {
			opt.Z = make([]float64, m.Cfg.Model.Latent)
			for i := range opt.Z {
				opt.Z[i] = zsrc.NormFloat64()
			}
		}
		r, err := m.Reply(history, opt)
		if err != nil {
			return errors.Wrapf(err, "chat: line %d", line)
		}
		fmt.Fprintln(stdout, r)
		if r != "" {
			history = append(history, r)
		}
	}
	return errors.Wrap(sc.Err(), "chat: reading standard input")
}
