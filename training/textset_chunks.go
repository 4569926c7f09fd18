package training

import "github.com/rnnkit/rnnkit/training/data"

// Chunks returns the text's windows in evaluation order: Batch streams of
// Steps+1 tokens each, as [LM.Evaluate] walks them (for evaluators of
// their own, such as the int8 engine of package quantize).
func (s *TextSet) Chunks() []data.Chunk {
	out := make([]data.Chunk, 0, len(s.windows))
	for _, b := range s.windows {
		if w, ok := b.(window); ok {
			out = append(out, w.c)
		}
	}
	return out
}
