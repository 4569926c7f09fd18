package vae

import (
	"math"
	"testing"

	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/cells"
	"github.com/rnnkit/rnnkit/graph"
)

// mat is a parameter read as rows.
func mat(t *testing.T, ps *graph.Params, name string) [][]float64 {
	t.Helper()
	d, ok := ps.Get(name)
	if !ok {
		t.Fatalf("no parameter %s", name)
	}
	v := d.Data().([]float64)
	s := d.Shape()
	if len(s) == 1 {
		return [][]float64{v}
	}
	out := make([][]float64, s[0])
	for i := range out {
		out[i] = v[i*s[1] : (i+1)*s[1]]
	}
	return out
}

// affine returns W x + b.
func affine(w [][]float64, b []float64, x []float64) []float64 {
	out := make([]float64, len(w))
	for i, row := range w {
		out[i] = b[i]
		for j, v := range row {
			out[i] += v * x[j]
		}
	}
	return out
}

// rnnStep is PyTorch's tanh RNN cell, h' = tanh(W_ih x + b_ih + W_hh h + b_hh).
func rnnStep(t *testing.T, ps *graph.Params, prefix string, x, h []float64) []float64 {
	a := affine(mat(t, ps, prefix+"weight_ih_l0"), mat(t, ps, prefix+"bias_ih_l0")[0], x)
	r := affine(mat(t, ps, prefix+"weight_hh_l0"), mat(t, ps, prefix+"bias_hh_l0")[0], h)
	for i := range a {
		a[i] = math.Tanh(a[i] + r[i])
	}
	return a
}

// handLoss computes the loss of a batch of sentences in plain Go from the
// model's equations: the tanh-RNN encoder's last state, μ and log σ², z =
// μ + σ ε, the decoder from tanh(latent2hidden z) reading [emb(w); z], the
// cross-entropy summed over each sentence and averaged, plus β times the
// KL per dimension averaged over the batch and floored at β·λ.
func handLoss(t *testing.T, ps *graph.Params, c Config, sents [][]int, eps [][]float64, beta, lambda float64) float64 {
	emb := mat(t, ps, "embedding.weight")
	recon := 0.0
	kld := make([]float64, c.Latent)
	for b, s := range sents {
		h := make([]float64, c.Hidden)
		for _, w := range s {
			h = rnnStep(t, ps, "encoder.", emb[w], h)
		}
		mu := affine(mat(t, ps, "mu.weight"), mat(t, ps, "mu.bias")[0], h)
		lv := affine(mat(t, ps, "logvar.weight"), mat(t, ps, "logvar.bias")[0], h)
		z := make([]float64, c.Latent)
		for j := range z {
			z[j] = mu[j] + math.Exp(lv[j]/2)*eps[b][j]
			kld[j] += (mu[j]*mu[j] + math.Exp(lv[j]) - 1 - lv[j]) / 2 / float64(len(sents))
		}
		d := affine(mat(t, ps, "latent2hidden.weight"), mat(t, ps, "latent2hidden.bias")[0], z)
		for i := range d {
			d[i] = math.Tanh(d[i])
		}
		in := append([]int{BOS}, s...)
		out := append(append([]int(nil), s...), EOS)
		for k, w := range in {
			x := append(append([]float64(nil), emb[w]...), z...)
			d = rnnStep(t, ps, "decoder.", x, d)
			logits := affine(mat(t, ps, "fc.weight"), mat(t, ps, "fc.bias")[0], d)
			m := math.Inf(-1)
			for _, v := range logits {
				m = math.Max(m, v)
			}
			se := 0.0
			for _, v := range logits {
				se += math.Exp(v - m)
			}
			recon += (m + math.Log(se) - logits[out[k]]) / float64(len(sents))
		}
	}
	kl := 0.0
	for _, v := range kld {
		kl += math.Max(beta*lambda, beta*v)
	}
	return recon + kl
}

// With a fixed ε, one loss of the graph equals the hand computation, with
// and without free bits (a floor between the dimensions' KLs, so that
// some are floored and some not).
func TestLossEqualsHandComputation(t *testing.T) {
	c := Config{Vocab: 7, Embed: 3, Hidden: 4, Latent: 3, Cell: cells.RNNTanh, ZInput: true}
	ps := params(t, c, tensor.Float64, 21)
	sents := [][]int{{4, 5, 6}, {6, 4}}
	e := normals(2, c.Latent, 4)
	_, _, kl, _, _ := run(t, ps, c, 2, 3, Options{}, sents, Inputs{Eps: e, Beta: 1})
	dims := make([]float64, c.Latent)
	for b := range sents {
		for j := range dims {
			dims[j] += kl[b*c.Latent+j] / 2
		}
	}
	lo, hi := math.Inf(1), 0.0
	for _, v := range dims {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	for _, x := range []struct{ beta, lambda float64 }{{1, 0}, {0.3, 0}, {0.6, (lo + hi) / 2}, {0, 0.5}} {
		got, _, _, _, _ := run(t, ps, c, 2, 3, Options{FreeBits: x.lambda}, sents, Inputs{Eps: e, Beta: x.beta})
		want := handLoss(t, ps, c, sents, e, x.beta, x.lambda)
		if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Errorf("β %v, λ %v: loss %.15g, by hand %.15g", x.beta, x.lambda, got, want)
		}
	}
	if lo == hi {
		t.Fatalf("the dimensions' KLs are all %v: the free-bits floor is not tested between them", lo)
	}
}
