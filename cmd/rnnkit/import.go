package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/interop"
	"github.com/rnnkit/rnnkit/interop/torch"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/checkpoint"
	"github.com/rnnkit/rnnkit/training/data"
	"github.com/rnnkit/rnnkit/training/preset"
)

func init() {
	commands["import"] = command{"load a PyTorch state_dict (.pt) into a preset's model and write an rnnkit checkpoint", runImport}
}

// maxSideFile bounds the JSON files import reads (-config, -vocab).
const maxSideFile = 64 << 20

const importAbout = "Reads a PyTorch state_dict, as torch.save(model.state_dict(), FILE) writes it, builds the\n" +
	"preset's model (the preset's settings, changed by a JSON -config holding what config.json\n" +
	"records as model_config, then by the preset's flags), loads the tensors into its\n" +
	"parameters as PyTorch's strict load_state_dict does (every parameter, no other key, the\n" +
	"same shapes; the family's PyTorch module names are mapped, docs/models.md) and writes\n" +
	"an ordinary rnnkit checkpoint, which eval, translate and sample read.\n" +
	"The vocabulary (token id i is the i-th token) comes from -vocab, a JSON list of tokens\n" +
	"or {\"tokens\": [...]}, the first four <pad> <s> </s> <unk>; a preset that generates its\n" +
	"data (addition, date-attention, …) has its own by default, that of rnnkit train with\n" +
	"the same -seed and -examples. Nothing is written unless everything fits."

// importFlags are import's own flags.
type importFlags struct {
	torch, preset, config, vocab, out string
	overwrite                         bool
	prefixes                          map[string]string
}

func (f *importFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.torch, "torch", "", "the PyTorch state_dict file (.pt)")
	fs.StringVar(&f.preset, "preset", "", "the model's preset (rnnkit train -list shows them)")
	fs.StringVar(&f.config, "config", "", "JSON file of the model's settings (config.json's model_config); absent fields keep the preset's")
	fs.StringVar(&f.vocab, "vocab", "", "JSON file of the vocabulary, tokens in id order (default: the preset's own, where it generates its data)")
	fs.StringVar(&f.out, "out", "", "the checkpoint to write (.safetensors)")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace -out if it exists")
	f.prefixes = map[string]string{}
	fs.Func("prefix", "OLD=NEW: read the PyTorch keys that start with OLD as starting with NEW (repeatable; module.= strips DataParallel's prefix)", func(v string) error {
		old, repl, ok := strings.Cut(v, "=")
		if !ok || old == "" {
			return errors.Errorf("%q: want OLD=NEW, OLD not empty", v)
		}
		f.prefixes[old] = repl
		return nil
	})
}

// parseImport parses import's command line as train's is parsed: first with
// every preset's flags to find -preset, then, after -config is applied,
// with the preset's own, so that a flag given wins over -config.
func parseImport(args []string, stdout io.Writer) (*importFlags, preset.Setup, map[string]bool, bool, error) {
	all := flag.NewFlagSet("rnnkit import", flag.ContinueOnError)
	all.SetOutput(io.Discard)
	var f importFlags
	f.define(all)
	addAllPresetFlags(all)
	err := all.Parse(args)
	help := errors.Is(err, flag.ErrHelp)
	if err != nil && !help {
		return nil, nil, nil, false, usageError{"import: " + err.Error()}
	}
	if f.preset == "" {
		if help {
			fmt.Fprintf(stdout, "usage: rnnkit import -torch MODEL.pt -preset NAME [-config FILE] [-vocab FILE] -out FILE.safetensors [flags]\n\n%s\n\nflags:\n", importAbout)
			fs := flag.NewFlagSet("", flag.ContinueOnError)
			(&importFlags{}).define(fs)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			fmt.Fprintln(stdout, "\nand the preset's flags (rnnkit import -preset NAME -h).")
			return nil, nil, nil, true, nil
		}
		return nil, nil, nil, false, usageError{"import: -preset NAME is required (rnnkit train -list shows the presets)"}
	}
	p, _, ok := preset.Lookup(f.preset)
	if !ok {
		return nil, nil, nil, false, usageError{fmt.Sprintf("import: unknown preset %q for -preset (%s)", f.preset, strings.Join(preset.Names(), ", "))}
	}
	setup := p.New()
	if _, ok := setup.(preset.Importer); !ok {
		return nil, nil, nil, false, usageError{fmt.Sprintf("import: -preset %s: its model cannot be made without its data", p.Name)}
	}
	if f.config != "" && !help {
		if err := applyConfig(setup, f.config); err != nil {
			return nil, nil, nil, false, err
		}
	}
	fs := flag.NewFlagSet("rnnkit import", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f = importFlags{}
	f.define(fs)
	preset.DefineFlags(fs, setup)
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "usage: rnnkit import -torch MODEL.pt -preset %s [flags]\n\n%s\n\nflags:\n", p.Name, importAbout)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil, nil, nil, true, nil
	} else if err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: "); ok {
			return nil, nil, nil, false, usageError{fmt.Sprintf("import: %s does not apply to the %s preset", name, p.Name)}
		}
		return nil, nil, nil, false, usageError{"import: " + err.Error()}
	}
	if fs.NArg() != 0 {
		return nil, nil, nil, false, usageError{fmt.Sprintf("import: unexpected argument %q", fs.Arg(0))}
	}
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	return &f, setup, given, false, nil
}

// readSmall reads a JSON side file of the flag, at most maxSideFile bytes.
func readSmall(flagName, path string) ([]byte, error) {
	if err := inputFile(flagName, path); err != nil {
		return nil, errors.Wrap(err, "import")
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrapf(err, "import: -%s", flagName)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxSideFile+1))
	if err != nil {
		return nil, errors.Wrapf(err, "import: -%s %s", flagName, path)
	}
	if len(b) > maxSideFile {
		return nil, errors.Errorf("import: -%s %s: more than %d bytes", flagName, path, maxSideFile)
	}
	return b, nil
}

// applyConfig decodes the JSON file at path into the setup's model
// settings: the fields it has replace the preset's, unknown ones are an
// error.
func applyConfig(s preset.Setup, path string) error {
	b, err := readSmall("config", path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s.(preset.Importer).ModelConfig()); err != nil {
		return errors.Wrapf(err, "import: -config %s", path)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.Errorf("import: -config %s: data after the JSON object", path)
	}
	return nil
}

// readVocab reads a vocabulary file: a JSON list of tokens in id order, or
// the object {"tokens": [...]} that checkpoints hold.
func readVocab(path string) (*data.Vocab, error) {
	b, err := readSmall("vocab", path)
	if err != nil {
		return nil, err
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		var toks []string
		dec := json.NewDecoder(bytes.NewReader(t))
		if err := dec.Decode(&toks); err != nil {
			return nil, errors.Wrapf(err, "import: -vocab %s", path)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, errors.Errorf("import: -vocab %s: data after the JSON list", path)
		}
		v, err := data.NewVocab(toks)
		return v, errors.Wrapf(err, "import: -vocab %s", path)
	}
	v := &data.Vocab{}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, errors.Wrapf(err, "import: -vocab %s", path)
	}
	return v, nil
}

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := preset.Check(); err != nil {
		return err
	}
	f, setup, given, help, err := parseImport(args, stdout)
	if help || err != nil {
		return err
	}
	errs := []error{nonEmpty("torch", f.torch), nonEmpty("out", f.out)}
	if given["config"] {
		errs = append(errs, nonEmpty("config", f.config))
	}
	if given["vocab"] {
		errs = append(errs, nonEmpty("vocab", f.vocab))
	}
	if err := checks("import", append(errs, preset.ValidateImport(setup, given))...); err != nil {
		if f.config != "" {
			return usageError{fmt.Sprintf("%s (the settings of -config %s and the flags)", err, f.config)}
		}
		return err
	}
	if err := inputFile("torch", f.torch); err != nil {
		return errors.Wrap(err, "import")
	}
	if err := outputFile("out", f.out); err != nil {
		return errors.Wrap(err, "import")
	}
	if _, err := os.Stat(f.out); err == nil && !f.overwrite {
		return errors.Errorf("import: -out %s exists: pass -overwrite to replace it", f.out)
	}
	imp := setup.(preset.Importer)
	var vocab *data.Vocab
	if f.vocab != "" {
		if vocab, err = readVocab(f.vocab); err != nil {
			return err
		}
	} else {
		if vocab, err = imp.Vocab(); err != nil {
			return errors.Wrap(err, "import")
		}
		if vocab == nil {
			return usageError{fmt.Sprintf("import: the %s preset has no vocabulary of its own: -vocab FILE is required", f.preset)}
		}
	}
	sd, err := torch.Load(f.torch)
	if err != nil {
		return errors.Wrapf(err, "import: -torch %s", f.torch)
	}
	m, err := imp.NewModel(vocab)
	if err != nil {
		return errors.Wrapf(err, "import: the %s model", f.preset)
	}
	tr, matches, err := interop.Import(setup.Common().Train, m, sd, f.prefixes)
	if err != nil {
		return errors.Wrapf(err, "import: -torch %s into the %s model (vocabulary of %d tokens)", f.torch, f.preset, vocab.Len())
	}
	defer tr.Close()
	c, err := tr.Checkpoint(map[string]string{training.PresetKey: f.preset, "source": "torch"})
	if err != nil {
		return errors.Wrap(err, "import")
	}
	if err := checkpoint.Save(f.out, c); err != nil {
		return errors.Wrap(err, "import: -out")
	}
	fmt.Fprintf(stdout, "%s: %d tensors (%s) from %s, %s format, into a %s model (%s, vocabulary %d, %s): %s\n",
		f.preset, len(matches), dtypesOf(matches), f.torch, sd.Format, m.Describe().Kind, countLine(tr), vocab.Len(), tr.Cfg.Dtype, f.out)
	return nil
}

// dtypesOf says which dtypes the loaded tensors had.
func dtypesOf(ms []interop.Match) string {
	n := map[string]int{}
	for _, m := range ms {
		n[m.DType]++
	}
	var parts []string
	for d, k := range n {
		parts = append(parts, fmt.Sprintf("%d %s", k, d))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// countLine says how many parameters the trainer holds.
func countLine(tr *training.Trainer) string {
	return fmt.Sprintf("%d parameters", countParams(tr.Params))
}
