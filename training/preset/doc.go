// Package preset is the registry of rnnkit's named experiments, which
// `rnnkit train -preset NAME` runs and `rnnkit train -list` lists.
//
// A model family registers itself, with its presets, in one file of its
// own ([Register], here seq2seq.go and lm.go). A [Preset] is a name, a line
// about it and a constructor of its [Setup]: the run's settings at the
// preset's defaults, which the family's flags change ([Setup.Flags]),
// checked before any work ([Validate]: every error names its flag), and
// the work that reads or makes the data and returns the training.Model
// ([Setup.Prepare]). Everything else a run does (the loop, schedules,
// checkpoints, metrics, plots) is the training.Trainer's, the same for
// every family.
//
// Adding a preset to a family is one entry in its file's Presets. Adding a
// family is one file: a training.Model implementation registered with
// training.Register (for checkpoints), and a Family registered here.
//
// # Flags
//
// Every preset has the common flags: -epochs, -optimizer, -lr, -clip,
// -seed, -dtype, -skip-nonfinite, -lr-step, -lr-gamma, -plateau,
// -plateau-factor and -early-stop. The Seq2Seq presets add -batch,
// -hidden, -embed, -layers, -cell, -decoder, -score, -reverse and
// -examples; the language model adds -batch, -bptt, -hidden, -embed,
// -layers and -cell. A flag keeps its meaning and type in every family
// that has it.
package preset
