package interop_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/interop"
	"github.com/rnnkit/rnnkit/interop/torch"
	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/transformer"
	"github.com/rnnkit/rnnkit/training"
)

// The translation tutorial's module, its names (src_tok_emb and
// tgt_tok_emb sharing one table here, generator for the output layer; the
// positional table a buffer kept out of the state_dict), saved with
// torch.save after a few random steps, and the logits of one
// teacher-forced pass.
const tutorialScript = `
import json, math, sys
import torch
from torch import nn
torch.set_default_dtype(torch.float64)
torch.manual_seed(3)
V, E, H, F = 9, 8, 2, 12

class TokenEmbedding(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(V, E)
    def forward(self, t):
        return self.embedding(t) * math.sqrt(E)

class Seq2SeqTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.Transformer(E, H, 2, 1, F, dropout=0.0, activation="gelu", norm_first=True)
        self.generator = nn.Linear(E, V)
        self.src_tok_emb = TokenEmbedding()
        self.tgt_tok_emb = self.src_tok_emb
        pos = torch.arange(0, 64).unsqueeze(1).double()
        div = torch.exp(torch.arange(0, E, 2).double() * (-math.log(10000.0) / E))
        pe = torch.zeros(64, E)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("pos", pe.unsqueeze(1), persistent=False)
    def forward(self, src, tgt):
        s = self.src_tok_emb(src) + self.pos[:src.shape[0]]
        t = self.tgt_tok_emb(tgt) + self.pos[:tgt.shape[0]]
        mask = self.transformer.generate_square_subsequent_mask(tgt.shape[0])
        return self.generator(self.transformer(s, t, tgt_mask=mask))

m = Seq2SeqTransformer()
opt = torch.optim.Adam(m.parameters(), 0.01)
for _ in range(3):
    src = torch.randint(4, V, (5, 2)); tgt = torch.randint(4, V, (4, 2))
    loss = nn.functional.cross_entropy(m(src, tgt).reshape(-1, V), tgt.reshape(-1))
    opt.zero_grad(); loss.backward(); opt.step()
sd = m.state_dict()
sd["tgt_tok_emb.embedding.weight"] = sd["src_tok_emb.embedding.weight"].clone()
torch.save(sd, sys.argv[1] + "/model.pt")
src = torch.tensor([[4], [5], [6], [7], [8]])
dec = torch.tensor([[1], [4], [6]])
m.eval()
with torch.no_grad():
    logits = m(src, dec)[:, 0, :]
json.dump({"src": [4, 5, 6, 7, 8], "dec": [1, 4, 6], "logits": logits.tolist()}, open(sys.argv[1] + "/out.json", "w"))
`

// A model of the PyTorch tutorial's Seq2Seq Transformer, saved with
// torch.save under the tutorial's module names, imports into a
// training.Transformer (rnnkit import's path) and its cached decoder gives
// PyTorch's logits.
func TestTorchTutorialTransformerImports(t *testing.T) {
	env := pythonEnv(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "tutorial.py")
	if err := os.WriteFile(script, []byte(tutorialScript), 0o644); err != nil {
		t.Fatal(err)
	}
	runPython(t, env, script, dir)
	sd, err := torch.Load(filepath.Join(dir, "model.pt"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := training.TransformerConfig{Batch: 2, BucketWidth: 1, Model: transformer.Config{EncoderLayers: 2, DecoderLayers: 1,
		Layer: transformer.LayerConfig{Embed: 8, Heads: 2, FF: 12, Activation: transformer.GELU, NormFirst: true}}}
	m, err := training.NewTransformer(cfg, charVocab(9), nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, matches, err := interop.Import(training.Config{Epochs: 1, Optimizer: "adam", LR: 1e-3, Seed: 1, Dtype: "float64"}, m, sd, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	t.Logf("%d tensors loaded", len(matches))
	var want struct {
		Src, Dec []int
		Logits   [][]float64
	}
	b, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	gen, err := m.Generator()
	if err != nil {
		t.Fatal(err)
	}
	s0, err := gen.Encode([][]int{want.Src})
	if err != nil {
		t.Fatal(err)
	}
	var s decode.State = s0
	worst := 0.0
	for i, tok := range want.Dec {
		var l [][]float64
		if l, s, err = gen.Step(s, []int{tok}); err != nil {
			t.Fatal(err)
		}
		for j, v := range want.Logits[i] {
			worst = math.Max(worst, math.Abs(v-l[0][j]))
		}
	}
	t.Logf("max |rnnkit − PyTorch| logit: %.3g", worst)
	if worst > 1e-12 {
		t.Errorf("imported model's logits differ from PyTorch's by %.3g", worst)
	}
}
