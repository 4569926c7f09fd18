package training

import (
	"math"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/training/optim"
)

// The config names its optimiser; weight decay goes with adagrad only.
func TestConfigOptimizer(t *testing.T) {
	ok := Config{Epochs: 1, Optimizer: "adagrad", LR: 0.05, WeightDecay: 1e-4}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	o, err := ok.newOptimizer()
	if err != nil {
		t.Fatal(err)
	}
	if a, isA := o.(*optim.Adagrad); !isA || a.LR() != 0.05 || a.State()["adagrad.weight_decay"].Data().([]float64)[0] != 1e-4 {
		t.Errorf("adagrad config made %T %v", o, o.State())
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Epochs: 1, Optimizer: "adam", LR: 0.05, WeightDecay: 1e-4}, "applies only to the adagrad"},
		{Config{Epochs: 1, LR: 0.05, WeightDecay: 1e-4}, "applies only to the adagrad"},
		{Config{Epochs: 1, Optimizer: "adagrad", LR: 0.05, WeightDecay: -1}, "weight decay -1"},
		{Config{Epochs: 1, Optimizer: "adagrad", LR: 0.05, WeightDecay: math.Inf(1)}, "weight decay +Inf"},
		{Config{Epochs: 1, Optimizer: "adagrad", LR: 0.05, WeightDecay: math.NaN()}, "weight decay NaN"},
		{Config{Epochs: 1, Optimizer: "lion", LR: 0.05}, "adagrad)"},
	} {
		if err := c.cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error saying %q", c.cfg, err, c.want)
		}
	}
}
