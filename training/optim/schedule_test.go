package optim

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func TestStepLR(t *testing.T) {
	cases := []struct {
		s     StepLR
		base  float64
		epoch int
		want  float64
	}{
		{StepLR{3, 0.5}, 0.1, 0, 0.1},
		{StepLR{3, 0.5}, 0.1, 2, 0.1},
		{StepLR{3, 0.5}, 0.1, 3, 0.05},
		{StepLR{3, 0.5}, 0.1, 5, 0.05},
		{StepLR{3, 0.5}, 0.1, 6, 0.025},
		{StepLR{3, 0.5}, 0.1, 30, 0.1 / 1024},
		{StepLR{1, 0.1}, 1, 2, 0.010000000000000002},      // Python: 0.1 ** 2
		{StepLR{1, 0.1}, 1, 3, 1 * 0.0010000000000000002}, // Python: 0.1 ** 3
		{StepLR{10, 2}, 0.5, 19, 1},
		{StepLR{10, 0.9}, 0, 100, 0},
	}
	for _, c := range cases {
		got, err := c.s.LR(c.base, c.epoch)
		if err != nil || got != c.want {
			t.Errorf("%+v.LR(%v, %d) = %v, %v; want %v", c.s, c.base, c.epoch, got, err, c.want)
		}
	}
	bad := []struct {
		s     StepLR
		base  float64
		epoch int
	}{
		{StepLR{0, 0.5}, 0.1, 1},
		{StepLR{-1, 0.5}, 0.1, 1},
		{StepLR{3, 0}, 0.1, 1},
		{StepLR{3, -0.5}, 0.1, 1},
		{StepLR{3, nan()}, 0.1, 1},
		{StepLR{3, math.Inf(1)}, 0.1, 1},
		{StepLR{3, 0.5}, -0.1, 1},
		{StepLR{3, 0.5}, nan(), 1},
		{StepLR{3, 0.5}, 0.1, -1},
	}
	for _, c := range bad {
		if _, err := c.s.LR(c.base, c.epoch); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v.LR(%v, %d): %v, want ErrConfig", c.s, c.base, c.epoch, err)
		}
	}
}

func TestReduceOnPlateau(t *testing.T) {
	cases := []struct {
		name    string
		r       ReduceOnPlateau
		lr      float64
		metrics []float64
		want    []float64 // lr after each metric
	}{
		{"min, patience 2",
			ReduceOnPlateau{Factor: 0.5, Patience: 2, Mode: "min", Threshold: 0},
			1, []float64{3, 2, 2, 2, 2, 1, 1, 1, 1},
			[]float64{1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25}},
		{"min, relative threshold: 0.1% better is not enough",
			ReduceOnPlateau{Factor: 0.1, Patience: 1, Mode: "min", Threshold: 0.01},
			1, []float64{100, 99.5, 99.2, 98},
			[]float64{1, 1, 0.1, 0.1}},
		{"max, absolute threshold",
			ReduceOnPlateau{Factor: 0.5, Patience: 0, Mode: "max", Threshold: 0.05, ThresholdMode: "abs"},
			1, []float64{0.5, 0.54, 0.56, 0.6},
			[]float64{1, 0.5, 0.5, 0.25}},
		{"cooldown: bad epochs in cooldown do not count",
			ReduceOnPlateau{Factor: 0.5, Patience: 0, Mode: "min", Cooldown: 2},
			1, []float64{1, 1, 1, 1, 1, 1},
			[]float64{1, 0.5, 0.5, 0.5, 0.25, 0.25}},
		{"min lr floor, and no change below eps",
			ReduceOnPlateau{Factor: 0.5, Patience: 0, Mode: "min", MinLR: 0.3},
			1, []float64{1, 1, 1, 1},
			[]float64{1, 0.5, 0.3, 0.3}},
		{"infinite metrics",
			ReduceOnPlateau{Factor: 0.5, Patience: 0, Mode: "min"},
			1, []float64{math.Inf(1), 5, math.Inf(-1), math.Inf(-1)},
			[]float64{0.5, 0.5, 0.5, 0.25}},
	}
	for _, c := range cases {
		r := c.r
		lr := c.lr
		for i, m := range c.metrics {
			var err error
			lr, err = r.Observe(m, lr)
			if err != nil {
				t.Fatalf("%s: epoch %d: %v", c.name, i, err)
			}
			if lr != c.want[i] {
				t.Errorf("%s: epoch %d (metric %v): lr %v, want %v", c.name, i, m, lr, c.want[i])
			}
		}
		if r.Epochs != len(c.metrics) {
			t.Errorf("%s: Epochs %d", c.name, r.Epochs)
		}
	}

	// The exported state resumes exactly: a copy taken midway continues as the original.
	r := ReduceOnPlateau{Factor: 0.5, Patience: 1, Mode: "min", Cooldown: 1}
	metrics := []float64{5, 4, 4, 4, 3, 3, 3, 3, 3}
	lr := 1.0
	var saved ReduceOnPlateau
	var savedLR float64
	for i, m := range metrics {
		if i == 4 {
			saved, savedLR = r, lr
		}
		lr, _ = r.Observe(m, lr)
	}
	for _, m := range metrics[4:] {
		savedLR, _ = saved.Observe(m, savedLR)
	}
	if saved != r || savedLR != lr {
		t.Errorf("resumed scheduler %+v (lr %v), uninterrupted %+v (lr %v)", saved, savedLR, r, lr)
	}

	// Bad input: ErrConfig or ErrNonFinite, and no state change.
	ok := ReduceOnPlateau{Factor: 0.5, Patience: 1, Mode: "min"}
	for name, r := range map[string]ReduceOnPlateau{
		"factor 0":          {Factor: 0, Mode: "min"},
		"factor 1":          {Factor: 1, Mode: "min"},
		"factor NaN":        {Factor: nan(), Mode: "min"},
		"patience -1":       {Factor: 0.5, Patience: -1, Mode: "min"},
		"mode empty":        {Factor: 0.5},
		"mode MIN":          {Factor: 0.5, Mode: "MIN"},
		"threshold -1":      {Factor: 0.5, Mode: "min", Threshold: -1},
		"threshold mode x":  {Factor: 0.5, Mode: "min", ThresholdMode: "x"},
		"cooldown -1":       {Factor: 0.5, Mode: "min", Cooldown: -1},
		"min lr -1":         {Factor: 0.5, Mode: "min", MinLR: -1},
		"negative counters": {Factor: 0.5, Mode: "min", NumBadEpochs: -1},
	} {
		before := r
		if _, err := r.Observe(1, 0.1); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
		if fmt.Sprintf("%+v", r) != fmt.Sprintf("%+v", before) { // NaN fields: compare as text
			t.Errorf("%s: state changed", name)
		}
	}
	for _, lr := range []float64{-1, nan(), math.Inf(1)} {
		if _, err := ok.Observe(1, lr); !errors.Is(err, ErrConfig) {
			t.Errorf("lr %v: %v, want ErrConfig", lr, err)
		}
	}
	before := ok
	if got, err := ok.Observe(nan(), 0.1); !errors.Is(err, ErrNonFinite) || got != 0.1 || ok != before {
		t.Errorf("NaN metric: %v, %v, state %+v", got, err, ok)
	}
}

func TestEarlyStopping(t *testing.T) {
	cases := []struct {
		name    string
		e       EarlyStopping
		metrics []float64
		want    []bool
	}{
		{"min, patience 2", EarlyStopping{Patience: 2, Mode: "min"},
			[]float64{5, 4, 4, 3, 3.5, 3.2},
			[]bool{false, false, false, false, false, true}},
		{"max, patience 1", EarlyStopping{Patience: 1, Mode: "max"},
			[]float64{0.1, 0.5, 0.4},
			[]bool{false, false, true}},
		{"patience 0 stops at the first epoch without improvement", EarlyStopping{Patience: 0, Mode: "min"},
			[]float64{3, 2, 2},
			[]bool{false, false, true}},
		{"min delta", EarlyStopping{Patience: 2, Mode: "min", MinDelta: 0.1},
			[]float64{1, 0.95, 0.91, 0.85},
			[]bool{false, false, true, false}},
		{"an improvement resets the count", EarlyStopping{Patience: 3, Mode: "max"},
			[]float64{1, 1, 1, 2, 2, 2, 2},
			[]bool{false, false, false, false, false, false, true}},
		{"first metric +Inf is no improvement", EarlyStopping{Patience: 1, Mode: "min"},
			[]float64{math.Inf(1)},
			[]bool{true}},
	}
	for _, c := range cases {
		e := c.e
		for i, m := range c.metrics {
			stop, err := e.Observe(m)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if stop != c.want[i] {
				t.Errorf("%s: epoch %d (metric %v): stop %v, want %v (state %+v)", c.name, i, m, stop, c.want[i], e)
			}
		}
	}
	for name, e := range map[string]EarlyStopping{
		"patience -1":   {Patience: -1, Mode: "min"},
		"mode empty":    {Patience: 1},
		"min delta -1":  {Patience: 1, Mode: "min", MinDelta: -1},
		"min delta NaN": {Patience: 1, Mode: "min", MinDelta: nan()},
	} {
		if stop, err := e.Observe(1); !errors.Is(err, ErrConfig) || stop {
			t.Errorf("%s: %v, %v; want ErrConfig", name, stop, err)
		}
	}
	e := EarlyStopping{Patience: 5, Mode: "min"}
	if _, err := e.Observe(1); err != nil {
		t.Fatal(err)
	}
	before := e
	if stop, err := e.Observe(nan()); !errors.Is(err, ErrNonFinite) || !stop || e != before {
		t.Errorf("NaN metric: stop %v, err %v, state %+v", stop, err, e)
	}
}
