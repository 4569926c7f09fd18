package attention_test

import (
	"fmt"
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rnnkit/rnnkit/attention"
)

// SeqScores and SeqAttend compute, per sequence, what a plain loop computes,
// and their gradients agree with finite differences (a loss through both,
// with the masked softmax between them, as a fused attention decoder uses).
func TestSeqAttention(t *testing.T) {
	for _, sz := range []struct{ B, Tq, Tm, H int }{{3, 4, 5, 2}, {1, 3, 2, 4}, {2, 1, 1, 3}} {
		t.Run(fmt.Sprintf("B%d_Tq%d_Tm%d_H%d", sz.B, sz.Tq, sz.Tm, sz.H), func(t *testing.T) {
			s := newAttSetup(t, tensor.Float64, 5)
			B, Tq, Tm, H := sz.B, sz.Tq, sz.Tm, sz.H
			q, qd := s.input("q", nil, Tq*B, H)
			m, md := s.input("m", nil, Tm*B, H)
			mask := make([]float64, Tq*B*Tm)
			for i := range mask {
				if i%Tm == 0 || s.src.Float64() < 0.7 {
					mask[i] = 1
				}
			}
			mk, _ := s.input("mask", mask, Tq*B, Tm)
			must := attMust(t)
			scores := must(attention.SeqScores(q, m, B))
			alpha := must(attention.SoftmaxRows(scores, mk))
			ctx := must(attention.SeqAttend(alpha, m, B))
			vals := s.run(scores, alpha, ctx)
			// The plain loops.
			wantS := make([]float64, Tq*B*Tm)
			wantC := make([]float64, Tq*B*H)
			for tq := 0; tq < Tq; tq++ {
				for b := 0; b < B; b++ {
					r := tq*B + b
					for j := 0; j < Tm; j++ {
						for k := 0; k < H; k++ {
							wantS[r*Tm+j] += qd[r*H+k] * md[(j*B+b)*H+k]
							wantC[r*H+k] += vals[1][r*Tm+j] * md[(j*B+b)*H+k]
						}
					}
				}
			}
			attClose(t, "scores", vals[0], wantS, 1e-14)
			attClose(t, "context", vals[2], wantC, 1e-14)
			for r := 0; r < Tq*B; r++ {
				sum := 0.0
				for j := 0; j < Tm; j++ {
					sum += vals[1][r*Tm+j]
				}
				if math.Abs(sum-1) > 1e-12 {
					t.Fatalf("weights of row %d sum to %v", r, sum)
				}
			}
			loss := attAdd(t, s.sumProd(ctx, "r"), s.sumProd(scores, "rs"))
			s.check(loss, []*gorgonia.Node{q, m})
		})
	}
	s := newAttSetup(t, tensor.Float64, 1)
	a, _ := s.input("a", nil, 6, 3)
	b, _ := s.input("b", nil, 5, 3)
	if _, err := attention.SeqScores(a, b, 2); err == nil {
		t.Error("memory of 5 rows accepted for batch 2")
	}
	if _, err := attention.SeqAttend(a, b, 3); err == nil {
		t.Error("weights over 3 steps accepted for a memory of 5 rows")
	}
}
