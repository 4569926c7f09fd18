package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/graph"
	"github.com/rnnkit/rnnkit/models/hred/dialog"
	"github.com/rnnkit/rnnkit/training/checkpoint"
)

// dialogFiles are the dialogue family's test files: a DailyDialog-format
// file, bad ones, and checkpoints of a tiny HRED and VHRED run on it.
type dialogFiles struct {
	data, single, noEOU, empty, hred, vhred string
}

// makeDialogFiles writes the files into dir and trains the checkpoints.
func makeDialogFiles(dir string) (dialogFiles, error) {
	df := dialogFiles{data: filepath.Join(dir, "dialogues.txt"), single: filepath.Join(dir, "single.txt"),
		noEOU: filepath.Join(dir, "no-eou.txt"), empty: filepath.Join(dir, "empty-utterance.txt")}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return df, err
	}
	var b strings.Builder
	if err := dialog.Write(&b, dialog.Synthetic(40, graph.NewSource(2), dialog.SynthOptions{})); err != nil {
		return df, err
	}
	for path, text := range map[string]string{
		df.data: b.String(), df.single: "a . __eou__ b . __eou__\nhello . __eou__\n",
		df.noEOU: "a . __eou__ b . __eou__\nhello . __eou__ there\n", df.empty: "a . __eou__ __eou__ b . __eou__\n",
	} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return df, err
		}
	}
	for _, c := range []struct {
		preset string
		path   *string
	}{{"dialog-hred", &df.hred}, {"dialog-vhred", &df.vhred}} {
		out := filepath.Join(dir, c.preset)
		if err := run(context.Background(), dialogTrainArgs(c.preset, df.data, out), io.Discard, io.Discard); err != nil {
			return df, err
		}
		*c.path = filepath.Join(out, checkpoint.BestName)
	}
	return df, nil
}

// dialogTrainArgs is a dialogue run of a second on data.
func dialogTrainArgs(preset, data, out string) []string {
	return []string{"train", "-preset", preset, "-data", data, "-epochs", "1", "-hidden", "4", "-embed", "4", "-batch", "8",
		"-min-count", "1", "-log-every", "1000", "-out", out}
}

// The dialogue family's rows of the CLI table, its files made next to the
// table's fixture directory (see the tree family's).
func init() {
	moreCLICommands = append(moreCLICommands, func(fx fixtureFiles) []cliCommand {
		df, err := makeDialogFiles(filepath.Join(filepath.Dir(fx.dir), "dialog-fixtures"))
		if err != nil {
			return []cliCommand{{name: fmt.Sprintf("dialog fixtures: %v", err), base: []string{"dialog-fixtures"}, rows: []cliRow{{flag: "x", value: "y"}}}}
		}
		return []cliCommand{
			{name: "train dialog-hred", base: dialogTrainArgs("dialog-hred", df.data, "{out}"),
				flags: append(append([]flagSpec(nil), trainCommon...),
					flagSpec{"context", "int", "22222", ""}, flagSpec{"latent", "int", "22222", ""},
					flagSpec{"max-context", "int", "a2222", ""}, flagSpec{"max-len", "int", "a2222", ""},
					flagSpec{"bucket", "int", "22222", ""}, flagSpec{"word-dropout", "float", "a22222", ""},
					flagSpec{"kl-anneal", "int", "22222", ""}, flagSpec{"min-count", "int", "22222", ""},
					flagSpec{"dialogues", "int", "22222", ""}, flagSpec{"iw-samples", "int", "22222", ""}, flagSpec{"data", "in", "211", ""}),
				rows: []cliRow{
					{flag: "data", value: "(absent)", code: 2, want: "need -data FILE"},
					{flag: "data", value: df.single, code: 1, want: "single.txt: line 2: a dialogue of one utterance"},
					{flag: "data", value: df.noEOU, code: 1, want: "no-eou.txt: line 2: text after the last __eou__"},
					{flag: "data", value: df.empty, code: 1, want: "empty-utterance.txt: line 1: utterance 2 is empty"},
					{flag: "data", value: fx.dates, code: 1, want: "dates.txt: line 1: no \"__eou__\" marker"},
					{flag: "latent", value: "8", code: 2, want: "-latent, -kl-anneal and -iw-samples apply only to vhred"},
					{flag: "iw-samples", value: "4", code: 2, want: "-latent, -kl-anneal and -iw-samples apply only to vhred"},
				}},
			{name: "train dialog-vhred", base: dialogTrainArgs("dialog-vhred", df.data, "{out}"),
				rows: []cliRow{
					{flag: "iw-samples", value: "-1", code: 2, want: "-iw-samples -1: want 0 to"},
					{flag: "iw-samples", value: "10001", code: 2, want: "-iw-samples 10001: want 0 to"},
					{flag: "iw-samples", value: "3", code: 0},
				}},
			{name: "train dialog-synthetic-hred", base: []string{"train", "-preset", "dialog-synthetic-hred", "-dialogues", "20", "-epochs", "1",
				"-hidden", "4", "-embed", "4", "-log-every", "1000", "-out", "{out}"},
				rows: []cliRow{
					{flag: "data", value: df.data, code: 2, want: "-dialogues applies only to generated data, not with -data"},
					{flag: "dialogues", value: "5", code: 2, want: "-dialogues 5: want 10 to"},
					{flag: "dialogues", value: "20", code: 0, heavy: true},
				}},
			{name: "eval dialog", base: []string{"eval", "-checkpoint", df.vhred, "-data", df.data},
				rows: []cliRow{
					{flag: "data", value: df.noEOU, code: 1, want: "no-eou.txt: line 2"},
					{flag: "json", value: "=true", code: 0},
					{flag: "iw-samples", value: "3", code: 0},
					{flag: "iw-samples", value: "0", code: 2, want: "-iw-samples 0: want 1 to"},
				}},
			{name: "chat", base: []string{"chat", "-checkpoint", df.hred}, stdin: "my favourite colour is red .\nwhat is my favourite colour ?\n",
				flags: []flagSpec{{"checkpoint", "in", "211", ""}, {"beam", "int", "02222", ""}, {"temperature", "float", "020222", ""},
					{"topk", "int", "02022", ""}, {"topp", "float", "022222", ""}, {"seed", "uint", "02022", ""}, {"maxlen", "int", "02222", ""},
					{"sample-z", "bool", "22", ""}},
				rows: []cliRow{
					{flag: "checkpoint", value: fx.s2s, code: 1, want: "not a dialogue model"},
					{flag: "sample-z", value: "=true", code: 2, want: "-sample-z applies only to a vhred model"},
					{flag: "beam", value: "2", stdin: "\n\nhello\n\n", code: 0},
					{flag: "temperature", value: "0.5", code: 0},
					{flag: "beam", value: "2", args: []string{"temperature"}, code: 0},
				}},
			{name: "chat vhred", base: []string{"chat", "-checkpoint", df.vhred, "-seed", "7"}, stdin: "hello .\nhow are you ?\n",
				rows: []cliRow{{flag: "sample-z", value: "=true", code: 0}, {flag: "beam", value: "3", code: 0}}},
		}
	})
}

// chat keeps the conversation: each line gets one reply line, an empty
// line starts over (and is echoed as an empty line), and the same seed
// samples the same replies.
func TestChatConversation(t *testing.T) {
	df, err := makeDialogFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	in := "my favourite colour is red .\nthe bus was late .\n\nwhat is my favourite colour ?\n"
	talk := func(args ...string) string {
		stdin = strings.NewReader(in)
		defer func() { stdin = os.Stdin }()
		so, se, code := runCmd(t, append([]string{"chat"}, args...)...)
		if code != 0 {
			t.Fatalf("chat %v: exit %d: %s", args, code, se)
		}
		return so
	}
	out := talk("-checkpoint", df.hred)
	lines := strings.Split(out, "\n")
	if len(lines) != 5 || lines[2] != "" || lines[4] != "" {
		t.Fatalf("chat printed %q: want 3 replies and the empty line", out)
	}
	a, b := talk("-checkpoint", df.vhred, "-sample-z", "-temperature", "1", "-seed", "5"), talk("-checkpoint", df.vhred, "-sample-z", "-temperature", "1", "-seed", "5")
	if a != b {
		t.Errorf("the same seed sampled %q and %q", a, b)
	}
}

// eval -iw-samples k on a VHRED checkpoint adds the importance-weighted
// bound (below the ELBO's bound here, one ε against 64 samples) and its
// perplexity to the metrics.
func TestEvalIWSamples(t *testing.T) {
	df, err := makeDialogFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	so, se, code := runCmd(t, "eval", "-checkpoint", df.vhred, "-data", df.data, "-iw-samples", "64", "-json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, se)
	}
	var r struct{ Metrics map[string]float64 }
	if err := json.Unmarshal([]byte(so), &r); err != nil {
		t.Fatalf("%v: %s", err, so)
	}
	iw, elbo, ppl := r.Metrics["iw_nll_per_sentence"], r.Metrics["nll_per_sentence"], r.Metrics["iw_perplexity"]
	t.Logf("IW bound %v, ELBO %v", iw, elbo)
	if !(iw > 0 && iw < elbo && ppl > 1 && ppl < r.Metrics["perplexity"]) {
		t.Errorf("IW bound %v, ELBO %v, IW perplexity %v, perplexity %v", iw, elbo, ppl, r.Metrics["perplexity"])
	}
	so, _, _ = runCmd(t, "eval", "-checkpoint", df.vhred, "-data", df.data, "-json")
	if strings.Contains(so, "iw_") {
		t.Errorf("the bound without -iw-samples: %s", so)
	}
}
