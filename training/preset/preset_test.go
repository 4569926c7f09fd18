package preset

import (
	"flag"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/training"
)

// Every preset registers, validates at its defaults, and each flag name
// has one type in every family (rnnkit train parses with all of them to
// find -preset).
func TestRegistry(t *testing.T) {
	if err := Check(); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	types := map[string]string{}
	for _, e := range All() {
		p, f, ok := Lookup(e.Name)
		if !ok || p.Name != e.Name || f.Kind != e.Kind || p.About == "" || f.Data == "" {
			t.Fatalf("%s: Lookup %v %+v", e.Name, ok, f)
		}
		if g, ok := FamilyOf(e.Kind); !ok || g.Kind != e.Kind {
			t.Errorf("%s: FamilyOf(%q)", e.Name, e.Kind)
		}
		kinds[e.Kind] = e.Name
		s := p.New()
		fs := flag.NewFlagSet(e.Name, flag.ContinueOnError)
		DefineFlags(fs, s)
		fs.VisitAll(func(fl *flag.Flag) {
			typ := reflect.TypeOf(fl.Value).String()
			if old, ok := types[fl.Name]; ok && old != typ {
				t.Errorf("-%s is a %s in one family and a %s in another", fl.Name, old, typ)
			}
			types[fl.Name] = typ
		})
		if err := Validate(s, map[string]bool{}, "data.txt"); err != nil {
			t.Errorf("%s at its defaults: %v", e.Name, err)
		}
	}
	for _, k := range training.Kinds() {
		if _, ok := kinds[k]; !ok {
			t.Errorf("model kind %q has no preset", k)
		}
	}
}

func TestRegisterRefuses(t *testing.T) {
	eval := func(training.Model, string) (training.Dataset, error) { return nil, nil }
	newSetup := func() Setup { return nil }
	for _, f := range []Family{
		{Kind: "", EvalData: eval},
		{Kind: "x", EvalData: nil},
		{Kind: training.LMKind, EvalData: eval},
		{Kind: "x", EvalData: eval, Presets: []Preset{{Name: "charlm", New: newSetup}}},
		{Kind: "x", EvalData: eval, Presets: []Preset{{Name: "a", New: newSetup}, {Name: "a", New: newSetup}}},
		{Kind: "x", EvalData: eval, Presets: []Preset{{Name: "b"}}},
	} {
		if err := Register(f); err == nil {
			t.Errorf("registered %+v", f)
		}
	}
	if _, ok := FamilyOf("x"); ok {
		t.Error("a refused family is registered")
	}
}

// Bad values of the common and network flags are errors that name the
// flag, whatever the preset.
func TestValidateNamesTheFlag(t *testing.T) {
	for _, name := range Names() {
		p, _, _ := Lookup(name)
		for _, c := range []struct{ flag, value string }{
			{"epochs", "0"}, {"epochs", "99999999999"}, {"optimizer", ""}, {"optimizer", "lion"}, {"lr", "0"},
			{"lr", "NaN"}, {"clip", "-1"}, {"clip", "Inf"}, {"dtype", "float16"}, {"lr-step", "-1"},
			{"lr-gamma", "0"}, {"plateau", "-1"}, {"plateau-factor", "1"}, {"early-stop", "-2"},
			{"batch", "0"}, {"hidden", "0"}, {"hidden", "99999999999"}, {"embed", "-1"}, {"layers", "0"}, {"cell", "cnn"},
			{"weight-decay", "-1"}, {"weight-decay", "NaN"},
		} {
			s := p.New()
			fs := flag.NewFlagSet(name, flag.ContinueOnError)
			DefineFlags(fs, s)
			if fs.Lookup(c.flag) == nil {
				continue // a network flag this family has not (tree models have no -cell)
			}
			if err := fs.Set(c.flag, c.value); err != nil {
				t.Fatalf("%s: -%s %s: %v", name, c.flag, c.value, err)
			}
			err := Validate(s, map[string]bool{c.flag: true}, "data.txt")
			if err == nil || !strings.Contains(err.Error(), "-"+c.flag) {
				t.Errorf("%s: -%s %q: %v", name, c.flag, c.value, err)
			}
		}
	}
}

func ExampleLookup() {
	p, f, ok := Lookup("charlm")
	fmt.Println(ok, p.Name, f.Kind, "-", p.About)
	// Output: true charlm lm - character language model of the -data text, truncated BPTT
}
