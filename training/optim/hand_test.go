package optim

import (
	"math"
	"testing"

	"gorgonia.org/tensor"
)

// TestHandComputed checks three steps of each optimiser on a 2-element
// parameter against updates worked out by hand (closed forms, with
// hyperparameters chosen so that most intermediate values are exact).
//
// p₀ = [1, −2]; g₁ = [0.5, −1], g₂ = [0.25, 2], g₃ = [−1, 0.5].
func TestHandComputed(t *testing.T) {
	grads := [][]float64{{0.5, -1}, {0.25, 2}, {-1, 0.5}}
	s7, s19 := math.Sqrt(7), math.Sqrt(19)
	// Adam, lr 0.5, β₁ 0.5, β₂ 0.75, eps 0:
	//  step 1: m̂ = g, v̂ = g², p −= 0.5·sign(g)                      → [0.5, −1.5]
	//  step 2: m = [0.25, 0.75], 1−β₁² = 0.75 → m̂ = [1/3, 1];
	//          v = [1/16, 19/16], 1−β₂² = 7/16 → v̂ = [1/7, 19/7]     → p −= [√7/6, 0.5·√7/√19]
	//  step 3: m = [−0.375, 0.625], 1−β₁³ = 7/8 → m̂ = [−3/7, 5/7];
	//          v = [19/64, 61/64], 1−β₂³ = 37/64 → v̂ = [19/37, 61/37] → p −= 0.5·m̂/√v̂
	a2 := []float64{0.5 - s7/6, -1.5 - 0.5*s7/s19}
	a3 := []float64{a2[0] + 0.5*(3.0/7)/math.Sqrt(19.0/37), a2[1] - 0.5*(5.0/7)/math.Sqrt(61.0/37)}
	// RMSProp, lr 0.5, α 0.5, eps 0:
	//  step 1: v = [1/8, 1/2]      → p −= 0.5·g/√v = [√2/2, −√2/2]
	//  step 2: v = [3/32, 9/4]     → p −= [0.125·√(32/3), 2/3]
	//  step 3: v = [35/64, 5/4]    → p −= [−4/√35, 0.25/√1.25]
	r1 := []float64{1 - math.Sqrt2/2, -2 + math.Sqrt2/2}
	r2 := []float64{r1[0] - 0.125*math.Sqrt(32.0/3), r1[1] - 2.0/3}
	r3 := []float64{r2[0] + 4/math.Sqrt(35), r2[1] - 0.25/math.Sqrt(1.25)}
	// Adagrad, lr 0.5, weight decay 0.5, eps 0 (g' = g + 0.5·p, s += g'², p −= 0.5·g'/√s):
	//  step 1: g' = [1, −2], s = [1, 4]                    → p −= [0.5, −0.5]
	//  step 2: g' = [0.5, 1.25], s = [1.25, 5.5625]        → p −= 0.5·g'/√s
	//  step 3: g' = g₃ + 0.5·p₂, s = s₂ + g'²              → p −= 0.5·g'/√s
	d2 := []float64{0.5 - 0.25/math.Sqrt(1.25), -1.5 - 0.625/math.Sqrt(5.5625)}
	e3 := []float64{-1 + 0.5*d2[0], 0.5 + 0.5*d2[1]}
	d3 := []float64{d2[0] - 0.5*e3[0]/math.Sqrt(1.25+e3[0]*e3[0]), d2[1] - 0.5*e3[1]/math.Sqrt(5.5625+e3[1]*e3[1])}
	cases := []struct {
		name string
		make func() (Optimizer, error)
		want [][]float64 // after steps 1, 2, 3
	}{
		// p −= 0.5·g
		{"sgd", func() (Optimizer, error) { return NewSGD(0.5) },
			[][]float64{{0.75, -1.5}, {0.625, -2.5}, {1.125, -2.75}}},
		// μ 0.5, lr 0.5: b = [0.5, −1], [0.5, 1.5], [−0.75, 1.25]; p −= 0.5·b
		{"momentum", func() (Optimizer, error) { return NewMomentum(0.5, 0.5, false) },
			[][]float64{{0.75, -1.5}, {0.5, -2.25}, {0.875, -2.875}}},
		// same b; p −= 0.5·(g + 0.5·b) with g + 0.5·b = [0.75, −1.5], [0.5, 2.75], [−1.375, 1.125]
		{"nesterov", func() (Optimizer, error) { return NewMomentum(0.5, 0.5, true) },
			[][]float64{{0.625, -1.25}, {0.375, -2.625}, {1.0625, -3.1875}}},
		{"adam", func() (Optimizer, error) { return NewAdam(0.5, 0.5, 0.75, 0) },
			[][]float64{{0.5, -1.5}, a2, a3}},
		{"rmsprop", func() (Optimizer, error) { return NewRMSProp(0.5, 0.5, 0) },
			[][]float64{r1, r2, r3}},
		{"adagrad", func() (Optimizer, error) { return NewAdagrad(0.5, 0.5, 0) },
			[][]float64{{0.5, -1.5}, d2, d3}},
	}
	for _, c := range cases {
		for _, dt := range dtypes {
			tol := 1e-15
			if dt == tensor.Float32 {
				tol = 1e-6
			}
			o := mustOpt(t, c.make)
			ps := newParams(t, dt, spec{"p", []int{2}, []float64{1, -2}})
			for step, g := range grads {
				if err := o.Step(ps, Grads{"p": dense(t, dt, g, 2)}); err != nil {
					t.Fatalf("%s %v step %d: %v", c.name, dt, step+1, err)
				}
				got := values(t, ps, "p")
				for i := range got {
					if math.Abs(got[i]-c.want[step][i]) > tol {
						t.Errorf("%s %v step %d: p = %v, want %v", c.name, dt, step+1, got, c.want[step])
						break
					}
				}
			}
		}
	}
}
