package dialog

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// SynthValues is the number of values each attribute of [Synthetic] takes:
// a model that does not read the fact answers right 1 time in SynthValues.
const SynthValues = 8

// The attributes of synthetic facts and their values.
var synthFacts = []struct {
	attr   string
	values [SynthValues]string
}{
	{"colour", [SynthValues]string{"red", "blue", "green", "yellow", "black", "white", "purple", "orange"}},
	{"animal", [SynthValues]string{"cat", "dog", "horse", "owl", "fox", "bear", "wolf", "eagle"}},
	{"city", [SynthValues]string{"paris", "tokyo", "lima", "oslo", "cairo", "delhi", "rome", "quito"}},
	{"fruit", [SynthValues]string{"apple", "pear", "plum", "mango", "grape", "lemon", "peach", "cherry"}},
}

// The distractor turns: chit-chat that names no attribute and no value.
var synthChat = []string{
	"how are you today ?", "i am fine , thanks .", "the weather is nice .", "it may rain later .",
	"did you sleep well ?", "not really , i was up late .", "let us have some tea .", "that sounds good .",
	"i have to go to work soon .", "the bus was late again .", "what time is it ?", "it is almost noon .",
	"i read a good book .", "tell me about it .", "we should meet more often .", "yes , i agree .",
	"my brother called me .", "how is he doing ?", "he is busy these days .", "so am i .",
}

// SynthOptions sets the shape of synthetic dialogues; the zero value means
// 1 to 3 distractor turns.
type SynthOptions struct {
	// MinDistractors and MaxDistractors bound the number of chit-chat
	// turns between the fact and the question (0, 0: 1 to 3).
	MinDistractors, MaxDistractors int
}

// Synthetic returns n dialogues drawn from src: a fact about one of four
// attributes ("my favourite colour is red ."), distractor turns, the
// question ("what is my favourite colour ?") and the answer ("red ."),
// which is each dialogue's last utterance.
func Synthetic(n int, src *rand.Rand, opt SynthOptions) []Dialogue {
	lo, hi := opt.MinDistractors, opt.MaxDistractors
	if lo == 0 && hi == 0 {
		lo, hi = 1, 3
	}
	hi = max(hi, lo)
	out := make([]Dialogue, n)
	for i := range out {
		f := synthFacts[src.IntN(len(synthFacts))]
		v := f.values[src.IntN(SynthValues)]
		d := Dialogue{fmt.Sprintf("my favourite %s is %s .", f.attr, v)}
		for k := lo + src.IntN(hi-lo+1); k > 0; k-- {
			d = append(d, synthChat[src.IntN(len(synthChat))])
		}
		d = append(d, fmt.Sprintf("what is my favourite %s ?", f.attr), v+" .")
		out[i] = d
	}
	return out
}

// SynthAnswer reports the value a synthetic dialogue's question asks for:
// the word after "is" in its first utterance ("" if it is not one).
func SynthAnswer(d Dialogue) string {
	if len(d) == 0 {
		return ""
	}
	w := strings.Fields(d[0])
	if len(w) != 6 || w[0] != "my" || w[3] != "is" {
		return ""
	}
	return w[4]
}
