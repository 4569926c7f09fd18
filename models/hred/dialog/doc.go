// Package dialog is the dialogue data of rnnkit's hierarchical models
// (models/hred): a reader of DailyDialog's official release, the
// deterministic split by dialogue the experiments use, the download of the
// release with its checksum, and a generator of synthetic dialogues whose
// answer depends on an earlier turn.
//
// # Format
//
// DailyDialog (Li et al. 2017) ships each split as a text file,
// dialogues_<split>.txt, one dialogue a line, every utterance followed by
// " __eou__" (end of utterance), tokens separated by spaces:
//
//	Good morning , sir . __eou__ There is one . __eou__
//
// [Read] returns one [Dialogue] per line, each utterance with its spaces
// normalised (strings.Fields joined by one space). Its handling of bad
// input, each an error wrapping [ErrFormat] that names the line (and the
// utterance), is:
//
//   - a line with no " __eou__", or text after its last one (a missing
//     " __eou__"): an error;
//   - an empty utterance ("__eou__ __eou__"): an error;
//   - a dialogue of one utterance: an error (a reply needs a context),
//     unless [Options.AllowSingle];
//   - a line longer than [Options.MaxLineBytes] (default [MaxLineBytes]),
//     more than [Options.MaxDialogues] dialogues, invalid UTF-8: an error;
//   - an empty or blank line: skipped (editors add them at the end), so
//     line numbers in errors still count it.
//
// [Split] puts every tenth dialogue (index 9, 19, …) in the test part and
// the rest in the training part: a 90/10 split by dialogue that depends on
// nothing but the order of the file.
//
// # Release
//
// [ReleaseURL] is the official download location, a zip holding one zip
// per split; [Download] fetches a URL to a file, checking its SHA-256 when
// one is given, and [ReadRelease] reads a split's dialogues out of the
// release zip. rnnkit records only the checksums it has seen
// ([KnownSHA256]); no checksum of the release zip itself is recorded here,
// so pass the one you trust, or none.
//
// # Synthetic dialogues
//
// [Synthetic] generates dialogues that open with a fact ("my favourite
// colour is red ."), go on with distractor turns that say nothing of it,
// and end with a question about the fact and its answer ("what is my
// favourite colour ?" → "red ."). The question names the attribute but
// not the value, so a model that sees only the last utterance answers at
// chance (1 in [SynthValues]); one that reads the context can answer all
// of them.
package dialog
