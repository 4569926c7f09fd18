package word2vec

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/errors"

	"github.com/rnnkit/rnnkit/internal/vmath"
)

// Model is a word2vec model: the input vectors (the word vectors) and the
// output layers' weights, row w of each belonging to word w of Vocab.
type Model struct {
	Config  Config
	Vocab   *Vocab
	Syn0    []float32 // input vectors, Vocab.Len() × Size: the word vectors
	Syn1    []float32 // hierarchical softmax's inner nodes (nil without HS)
	Syn1Neg []float32 // negative sampling's output vectors (nil without)
	huff    *Huffman
}

// New returns a model for the vocabulary, initialised as word2vec.c's
// InitNet: syn0 uniform in [−0.5, 0.5)/Size from the seed's initial stream
// (the low 16 bits of each draw), syn1 and syn1neg zero.
func New(v *Vocab, cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if v == nil || v.Len() < 2 {
		return nil, errors.Wrap(ErrNoVocab, "word2vec: New: a vocabulary of at least one word and </s>")
	}
	n := v.Len() * cfg.Size
	if n/cfg.Size != v.Len() || n > math.MaxInt32*64 {
		return nil, errors.Wrapf(ErrConfig, "-size %d: %d words × size is too large", cfg.Size, v.Len())
	}
	m := &Model{Config: cfg, Vocab: v, Syn0: make([]float32, n)}
	adviseHuge(m.Syn0)
	initState, _ := Seeds(cfg.Seed, 1)
	r := lcg(initState)
	for i := range m.Syn0 {
		x := float32(r.next()&0xFFFF) / 65536
		m.Syn0[i] = float32((float64(x) - 0.5) / float64(cfg.Size))
	}
	if cfg.HS {
		m.Syn1 = make([]float32, n)
		adviseHuge(m.Syn1)
		m.huff = NewHuffman(v.Counts)
	}
	if cfg.Negative > 0 {
		m.Syn1Neg = make([]float32, n)
		adviseHuge(m.Syn1Neg)
	}
	return m, nil
}

// Progress is the state of a training run, reported about once a second.
type Progress struct {
	Words   int64         // corpus words processed, over all threads and passes
	Total   int64         // Iter × TrainWords, the words of the whole run
	Alpha   float64       // thread 0's learning rate
	Elapsed time.Duration // since training started
}

// WordsPerSec returns the words processed per second of wall clock.
func (p Progress) WordsPerSec() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Words) / p.Elapsed.Seconds()
}

// ETA returns the time left at the current speed (0 when unknown).
func (p Progress) ETA() time.Duration {
	if p.Words <= 0 || p.Total <= p.Words {
		return 0
	}
	return time.Duration(float64(p.Elapsed) * float64(p.Total-p.Words) / float64(p.Words))
}

// Summary is a finished training run.
type Summary struct {
	Vocab       int     `json:"vocab"`         // words in the vocabulary, "</s>" included
	TrainWords  int64   `json:"train_words"`   // tokens of the corpus kept by min-count
	Words       int64   `json:"words"`         // words processed, over all passes
	Seconds     float64 `json:"seconds"`       // wall clock of the training passes
	WordsPerSec float64 `json:"words_per_sec"` // Words / Seconds
}

// ProgressInterval is how often [Model.Train] reports progress.
var ProgressInterval = time.Second

// Train trains a new model (see [New] and [Model.Train]).
func Train(ctx context.Context, c *Corpus, cfg Config, progress func(Progress)) (*Model, Summary, error) {
	if c == nil {
		return nil, Summary{}, errors.Wrap(ErrEmptyCorpus, "word2vec: Train: nil corpus")
	}
	m, err := New(c.Vocab, cfg)
	if err != nil {
		return nil, Summary{}, err
	}
	s, err := m.Train(ctx, c, progress)
	return m, s, err
}

// Train runs Config.Iter passes over the corpus, as word2vec.c's
// TrainModelThread does, with Config.Threads goroutines updating the
// weights without locks (Hogwild). Thread k starts at token ⌊n/threads⌋·k
// and reads TrainWords/threads words a pass; its learning rate decays
// linearly with its own progress times the number of threads (the C tool
// uses the shared count of all threads, whose value depends on timing; at
// one thread the two are the same), so a run's learning-rate schedule and
// random draws do not depend on the scheduler. With one thread and a seed,
// a run is exactly reproducible. progress, when not nil, is called about
// once a second from another goroutine, and once at the end. When ctx is
// cancelled the threads stop within 10,000 words and Train returns the
// context's error; the weights are then partly trained.
func (m *Model) Train(ctx context.Context, c *Corpus, progress func(Progress)) (Summary, error) {
	if c == nil || c.Vocab == nil || c.Vocab.Len() != m.Vocab.Len() {
		return Summary{}, errors.New("word2vec: Train: the corpus is not of the model's vocabulary")
	}
	if len(c.Tokens) == 0 {
		return Summary{}, errors.Wrap(ErrEmptyCorpus, "word2vec: Train")
	}
	cfg := m.Config
	t := &trainer{
		m: m, cfg: cfg, toks: c.Tokens, trainWords: c.TrainWords, table: expTable(),
		startAlpha: float32(cfg.StartAlpha()),
	}
	if cfg.Sample > 0 {
		t.keep = keepThresholds(m.Vocab.Counts, cfg.Sample, c.TrainWords)
	}
	if cfg.Negative > 0 {
		t.uni = newUnigram(m.Vocab.Counts, unigramTableSize)
	}
	t.alpha.Store(math.Float32bits(t.startAlpha))
	_, seeds := Seeds(cfg.Seed, cfg.Threads)
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	if progress != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(ProgressInterval)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					progress(t.progress(start))
				}
			}
		}()
	}
	stop := context.AfterFunc(ctx, func() { t.stop.Store(true) })
	defer stop()
	var workers sync.WaitGroup
	for k := range cfg.Threads {
		workers.Add(1)
		go func() {
			defer workers.Done()
			t.work(k, lcg(seeds[k]))
		}()
	}
	workers.Wait()
	close(done)
	wg.Wait()
	p := t.progress(start)
	if progress != nil {
		progress(p)
	}
	s := Summary{Vocab: m.Vocab.Len(), TrainWords: c.TrainWords, Words: p.Words, Seconds: p.Elapsed.Seconds(), WordsPerSec: p.WordsPerSec()}
	if err := ctx.Err(); err != nil {
		return s, errors.Wrapf(err, "word2vec: training stopped after %d words", p.Words)
	}
	return s, nil
}

// trainer is one Train call's shared state.
type trainer struct {
	m          *Model
	cfg        Config
	toks       []int32
	trainWords int64
	table      []float32
	keep       []float32
	uni        *unigram
	startAlpha float32
	words      atomic.Int64  // words processed, added every 10,000 words
	alpha      atomic.Uint32 // thread 0's learning rate, float32 bits
	stop       atomic.Bool   // the context is cancelled
}

func (t *trainer) progress(start time.Time) Progress {
	return Progress{
		Words: t.words.Load(), Total: int64(t.cfg.Iter) * t.trainWords,
		Alpha: float64(math.Float32frombits(t.alpha.Load())), Elapsed: time.Since(start),
	}
}

// work is word2vec.c's TrainModelThread for thread id with generator r:
// the same loop, the same draws in the same order.
func (t *trainer) work(id int, r lcg) {
	cfg, m := t.cfg, t.m
	var huff *Huffman
	if cfg.HS {
		huff = m.huff
	}
	k := newKernel(ops32, cfg.Size, huff, cfg.Negative > 0, t.table)
	k.w0, k.w1, k.w2 = m.Syn0, m.Syn1, m.Syn1Neg
	k.d0, k.d1, k.d2 = m.Syn0, m.Syn1, m.Syn1Neg
	threads := int64(cfg.Threads)
	n := len(t.toks)
	startPos := int(int64(n) / threads * int64(id))
	limit := t.trainWords / threads
	total := float32(int64(cfg.Iter)*t.trainWords + 1)
	window := cfg.Window
	alpha := t.startAlpha
	var wordCount, lastWordCount, actual int64
	pos, sentencePos := startPos, 0
	needRead, eof := true, false
	sen := make([]int32, 0, MaxSentence)
	ctx := make([]int32, 0, 2*window)
	negs := make([]int32, 0, 2*window*cfg.Negative)
	offs := make([]int32, 0, 2*window)
	for iter := cfg.Iter; ; {
		if wordCount-lastWordCount > 10000 {
			actual += wordCount - lastWordCount
			t.words.Add(wordCount - lastWordCount)
			lastWordCount = wordCount
			alpha = t.startAlpha * (1 - float32(actual*threads)/total)
			if alpha < t.startAlpha*0.0001 {
				alpha = t.startAlpha * 0.0001
			}
			if id == 0 {
				t.alpha.Store(math.Float32bits(alpha))
			}
			if t.stop.Load() {
				return
			}
		}
		if needRead {
			sen = sen[:0]
			for {
				if pos >= n {
					eof = true
					break
				}
				w := t.toks[pos]
				pos++
				wordCount++
				if w == 0 {
					break
				}
				if t.keep != nil && t.keep[w] < float32(r.next()&0xFFFF)/65536 {
					continue
				}
				sen = append(sen, w)
				if len(sen) >= MaxSentence {
					break
				}
			}
			sentencePos, needRead = 0, false
		}
		if eof || wordCount > limit {
			actual += wordCount - lastWordCount
			t.words.Add(wordCount - lastWordCount)
			if iter--; iter == 0 {
				return
			}
			wordCount, lastWordCount = 0, 0
			pos, needRead, eof = startPos, true, false
			continue
		}
		if len(sen) == 0 {
			// word2vec.c goes on to "train" an empty sentence's position 0,
			// which trains nothing but draws the window.
			r.next()
			needRead = true
			continue
		}
		word := sen[sentencePos]
		b := int(r.next() % uint64(window))
		if cfg.CBOW {
			ctx = ctx[:0]
			for a := b; a < 2*window+1-b; a++ {
				if c := sentencePos - window + a; a != window && c >= 0 && c < len(sen) {
					ctx = append(ctx, sen[c])
				}
			}
			if len(ctx) > 0 {
				negs = t.draw(&r, word, negs[:0])
				vmath.PrefetchRows32(m.Syn1Neg, cfg.Size, negs)
				k.cbow(ctx, word, negs, alpha)
			}
		} else {
			// Draw every pair's negative samples first (the C tool draws
			// them pair by pair, nothing else in between: the same
			// numbers), so that the next pair's rows can be fetched into
			// cache while this pair trains.
			ctx, negs, offs = ctx[:0], negs[:0], offs[:0]
			for a := b; a < 2*window+1-b; a++ {
				if c := sentencePos - window + a; a != window && c >= 0 && c < len(sen) {
					ctx = append(ctx, sen[c])
					negs = t.draw(&r, word, negs)
					offs = append(offs, int32(len(negs)))
				}
			}
			t.prefetch(ctx, negs, offs, 0)
			from := int32(0)
			for i, in := range ctx {
				t.prefetch(ctx, negs, offs, i+1)
				k.skipGram(in, word, negs[from:offs[i]], alpha)
				from = offs[i]
			}
		}
		if sentencePos++; sentencePos >= len(sen) {
			needRead = true
		}
	}
}

// prefetch asks for the rows of skip-gram pair i of a position: the
// context word's input vector and the pair's negative samples' output
// vectors (negs[offs[i−1]:offs[i]]).
func (t *trainer) prefetch(ctx, negs, offs []int32, i int) {
	if i >= len(ctx) {
		return
	}
	dim := t.cfg.Size
	vmath.PrefetchRows32(t.m.Syn0, dim, ctx[i:i+1])
	from := int32(0)
	if i > 0 {
		from = offs[i-1]
	}
	vmath.PrefetchRows32(t.m.Syn1Neg, dim, negs[from:offs[i]])
}

// draw appends the negative samples of one prediction of word, as
// word2vec.c: slot (r >> 16) mod 10⁸ of the unigram table, a draw of
// "</s>" replaced by r mod (V − 1) + 1, a draw of word itself dropped.
func (t *trainer) draw(r *lcg, word int32, negs []int32) []int32 {
	if t.uni == nil {
		return negs
	}
	v := uint64(t.m.Vocab.Len() - 1)
	for range t.cfg.Negative {
		x := r.next()
		target := t.uni.word(int((x >> 16) % unigramTableSize))
		if target == 0 {
			target = int32(x%v) + 1
		}
		if target != word {
			negs = append(negs, target)
		}
	}
	return negs
}
