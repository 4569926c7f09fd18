package transformer

import (
	"math"

	"github.com/pkg/errors"
)

// MaskedBelow is the value at or below which a float attention mask entry
// counts as −∞ (masked): the fixtures write −∞ as −1e300.
const MaskedBelow = -1e300

// KeepMask returns the 0/1 mask [B·Tq, Tk] (row b·Tq + i, batch-major) that
// an attention from Tq queries to Tk keys in each of B sequences applies:
// 1 where query i of sequence b may attend key j. It combines, as
// PyTorch's MultiheadAttention does:
//   - causal: key j > i is masked (a decoder's self-attention), which
//     needs Tq = Tk;
//   - attn: nil, or PyTorch's float attn_mask [Tq, Tk] in row-major order,
//     each entry 0 (attend) or −∞ (masked; any value ≤ MaskedBelow); other
//     values (an additive bias) are refused;
//   - keyPad: nil, or the key padding mask [B, Tk], 1 for a padding key,
//     0 for a real one.
//
// A wrong length or value is an ErrMask naming the mask. A query row left
// with no key to attend gets zero weights (PyTorch gives NaN).
func KeepMask(B, Tq, Tk int, causal bool, attn, keyPad []float64) ([]float64, error) {
	if B <= 0 || Tq <= 0 || Tk <= 0 {
		return nil, errors.Wrapf(ErrMask, "sizes B=%d Tq=%d Tk=%d must be positive", B, Tq, Tk)
	}
	if causal && Tq != Tk {
		return nil, errors.Wrapf(ErrMask, "causal mask over %d queries and %d keys (they must be equal)", Tq, Tk)
	}
	if attn != nil && len(attn) != Tq*Tk {
		return nil, errors.Wrapf(ErrMask, "attention mask has %d values, want [%d %d] = %d", len(attn), Tq, Tk, Tq*Tk)
	}
	if keyPad != nil && len(keyPad) != B*Tk {
		return nil, errors.Wrapf(ErrMask, "key padding mask has %d values, want [%d %d] = %d", len(keyPad), B, Tk, B*Tk)
	}
	for i, v := range attn {
		if v != 0 && !(v <= MaskedBelow) {
			return nil, errors.Wrapf(ErrMask, "attention mask [%d %d] = %v: only 0 and -inf are supported", i/Tk, i%Tk, v)
		}
	}
	for i, v := range keyPad {
		if v != 0 && v != 1 {
			return nil, errors.Wrapf(ErrMask, "key padding mask [%d %d] = %v: want 0 or 1", i/Tk, i%Tk, v)
		}
	}
	out := make([]float64, B*Tq*Tk)
	for b := 0; b < B; b++ {
		for i := 0; i < Tq; i++ {
			row := out[(b*Tq+i)*Tk : (b*Tq+i+1)*Tk]
			for j := range row {
				keep := !(causal && j > i)
				if attn != nil && attn[i*Tk+j] != 0 {
					keep = false
				}
				if keyPad != nil && keyPad[b*Tk+j] != 0 {
					keep = false
				}
				if keep {
					row[j] = 1
				}
			}
		}
	}
	return out, nil
}

// PaddingMask returns the key padding mask [B, T] (1 = padding) of B
// sequences of the given lengths, each in 1..T.
func PaddingMask(lengths []int, T int) ([]float64, error) {
	out := make([]float64, len(lengths)*T)
	for b, n := range lengths {
		if n < 1 || n > T {
			return nil, errors.Wrapf(ErrMask, "length %d of sequence %d is outside 1..%d", n, b, T)
		}
		for t := n; t < T; t++ {
			out[b*T+t] = 1
		}
	}
	return out, nil
}

// PositionalRow writes the sinusoidal encoding of position pos into row
// (E long), as the PyTorch tutorial computes it:
//
//	PE[pos, 2i]   = sin(pos · exp(−2i·ln(10000)/E))
//	PE[pos, 2i+1] = cos(pos · exp(−2i·ln(10000)/E))
func PositionalRow(row []float64, pos int) {
	E := len(row)
	for i := 0; i < E; i += 2 {
		div := math.Exp(float64(i) * (-math.Log(10000.0) / float64(E)))
		a := float64(pos) * div
		row[i] = math.Sin(a)
		if i+1 < E {
			row[i+1] = math.Cos(a)
		}
	}
}

// Positions returns the encodings of B sequences of T positions starting
// at start, batch-major [B·T, E] (row b·T + t holds position start + t).
// A position at or beyond maxLen is ErrTooLong.
func Positions(B, T, E, start, maxLen int) ([]float64, error) {
	if start < 0 || start+T > maxLen {
		return nil, errors.Wrapf(ErrTooLong, "positions %d..%d, the table holds %d", start, start+T-1, maxLen)
	}
	out := make([]float64, B*T*E)
	for t := 0; t < T; t++ {
		PositionalRow(out[t*E:(t+1)*E], start+t)
	}
	for b := 1; b < B; b++ {
		copy(out[b*T*E:(b+1)*T*E], out[:T*E])
	}
	return out, nil
}
