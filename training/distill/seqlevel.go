package distill

import (
	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/models/decode"
	"github.com/rnnkit/rnnkit/models/seq2seq"
	"github.com/rnnkit/rnnkit/training"
	"github.com/rnnkit/rnnkit/training/data"
)

// Relabel is sequence-level distillation (Kim & Rush 2016): it replaces
// the answers of the student's training pairs by the teacher's best
// beam-search hypotheses (width beam; 0 means greedy), decoded in batches
// of the student's batch size, each at most 4 × its question's length + 8
// tokens. The teacher must be a Seq2Seq model of the student's vocabulary
// and source direction. It returns how many answers changed.
func Relabel(student *training.Seq2Seq, teacher *training.Trainer, beam int) (int, error) {
	if student == nil || teacher == nil {
		return 0, errors.New("distill: nil student or teacher")
	}
	tm, ok := teacher.Model.(*training.Seq2Seq)
	if !ok {
		return 0, errors.Errorf("distill: sequence-level distillation needs a Seq2Seq teacher, not a %s model", teacher.Model.Describe().Kind)
	}
	if err := sameVocab(student.Describe(), tm.Describe()); err != nil {
		return 0, err
	}
	if tm.Cfg.ReverseSource != student.Cfg.ReverseSource {
		return 0, errors.Errorf("distill: the teacher reads questions reversed=%v, the student reversed=%v (-reverse)", tm.Cfg.ReverseSource, student.Cfg.ReverseSource)
	}
	if beam < 0 {
		return 0, errors.Errorf("distill: beam width %d", beam)
	}
	gen, err := seq2seq.NewGenerator(teacher.Params, tm.Cfg.Model)
	if err != nil {
		return 0, err
	}
	defer gen.Close()
	return student.RelabelTargets(student.Cfg.Batch, func(srcs [][]int) ([][]int, error) {
		longest := 0
		for _, s := range srcs {
			longest = max(longest, len(s))
		}
		s0, err := gen.Encode(srcs)
		if err != nil {
			return nil, err
		}
		opt := decode.Options{BOS: data.BOS, EOS: data.EOS, MaxLen: 4*longest + 8}
		if beam == 0 {
			return decode.Greedy(gen, s0, opt)
		}
		hs, err := decode.Beam(gen, s0, opt, decode.BeamOptions{Width: beam})
		if err != nil {
			return nil, err
		}
		out := make([][]int, len(hs))
		for i, h := range hs {
			out[i] = h[0].Tokens
		}
		return out, nil
	})
}
