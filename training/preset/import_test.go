package preset

import (
	"flag"
	"reflect"
	"testing"
)

// newSetup returns a preset's setup with its flags defined, as the
// commands have it.
func newSetup(p Preset) Setup {
	s := p.New()
	DefineFlags(flag.NewFlagSet("", flag.ContinueOnError), s)
	return s
}

// A preset that generates its data gives rnnkit import the vocabulary and
// the model that rnnkit train builds for the same settings; the language
// model has no vocabulary of its own and validates without -data.
func TestImporters(t *testing.T) {
	for _, e := range All() {
		s := newSetup(e.Preset)
		imp, ok := s.(Importer)
		if !ok {
			t.Errorf("%s: no Importer", e.Name)
			continue
		}
		if err := ValidateImport(s, map[string]bool{}); err != nil {
			t.Errorf("%s: ValidateImport: %v", e.Name, err)
		}
		v, err := imp.Vocab()
		if err != nil {
			t.Fatalf("%s: %v", e.Name, err)
		}
		var examples *int // of a preset that generates its data
		switch x := s.(type) {
		case *s2sSetup:
			examples = &x.examples
		case *tfSetup:
			examples = &x.examples
		}
		if examples == nil {
			if v != nil {
				t.Errorf("%s: a vocabulary of its own without data", e.Name)
			}
			continue
		}
		*examples = 400
		if v, err = imp.Vocab(); err != nil {
			t.Fatal(err)
		}
		prep, err := s.Prepare("")
		if err != nil {
			t.Fatal(err)
		}
		d := prep.Model.Describe()
		if !reflect.DeepEqual(v.Tokens(), d.Vocab.Tokens()) {
			t.Errorf("%s: Vocab %q, train's %q", e.Name, v.Tokens(), d.Vocab.Tokens())
		}
		m, err := imp.NewModel(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Describe(); !reflect.DeepEqual(got.Config, d.Config) || got.Kind != d.Kind {
			t.Errorf("%s: NewModel %+v, train's %+v", e.Name, got.Config, d.Config)
		}
	}
}

// A settings error of an imported model names its flag, as train's do.
func TestValidateImportNamesFlags(t *testing.T) {
	p, _, _ := Lookup("charlm")
	s := newSetup(p)
	*s.(*lmSetup).Net.Hidden = 0
	if err := ValidateImport(s, map[string]bool{"hidden": true}); err == nil || err.Error() != "-hidden 0: want 1 to 8192" {
		t.Errorf("hidden 0: %v", err)
	}
	p, _, _ = Lookup("date-attention")
	s = newSetup(p)
	s.(*s2sSetup).model.Model.Decoder = "x"
	if err := ValidateImport(s, map[string]bool{}); err == nil || err.Error() != `-decoder "x": want plain, peeky or attention` {
		t.Errorf("decoder x: %v", err)
	}
	if _, err := (&s2sSetup{task: "date"}).Vocab(); err == nil {
		t.Error("no examples: no error")
	}
}
