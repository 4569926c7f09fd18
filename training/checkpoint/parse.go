package checkpoint

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// parseHeader parses the header JSON strictly, keeping the tensors in their
// order: no duplicate or unknown keys, exact field names, integers only.
func parseHeader(b []byte) ([]entry, map[string]string, error) {
	if len(b) == 0 || b[0] != '{' {
		return nil, nil, corrupt("the header does not start with '{'")
	}
	p := &jsonParser{dec: json.NewDecoder(bytes.NewReader(b))}
	p.dec.UseNumber()
	if err := p.delim('{'); err != nil {
		return nil, nil, err
	}
	var entries []entry
	var meta map[string]string
	seen := map[string]bool{}
	for p.dec.More() {
		key, err := p.str()
		if err != nil {
			return nil, nil, err
		}
		if seen[key] {
			return nil, nil, corrupt("header: duplicate key %.80q", key)
		}
		seen[key] = true
		if key == metadataKey {
			if meta, err = p.stringMap(); err != nil {
				return nil, nil, errors.Wrap(err, metadataKey)
			}
			continue
		}
		e, err := p.entry(key)
		if err != nil {
			return nil, nil, errors.Wrapf(err, "tensor %.80q", key)
		}
		entries = append(entries, e)
	}
	if err := p.delim('}'); err != nil {
		return nil, nil, err
	}
	if tok, err := p.dec.Token(); err != io.EOF {
		if err != nil {
			return nil, nil, corrupt("header: after the JSON object: %v", err)
		}
		return nil, nil, corrupt("header: %v after the JSON object", tok)
	}
	if meta == nil {
		return nil, nil, corrupt("header: no %s", metadataKey)
	}
	return entries, meta, nil
}

// jsonParser reads the header's JSON token by token.
type jsonParser struct{ dec *json.Decoder }

func (p *jsonParser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, corrupt("header: unexpected end of JSON")
		}
		return nil, corrupt("header: %v", err)
	}
	return tok, nil
}

func (p *jsonParser) delim(d json.Delim) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return corrupt("header: want %v, got %v", d, describe(tok))
	}
	return nil
}

func (p *jsonParser) str() (string, error) {
	tok, err := p.token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", corrupt("header: want a string, got %v", describe(tok))
	}
	return s, nil
}

func (p *jsonParser) uint() (uint64, error) {
	tok, err := p.token()
	if err != nil {
		return 0, err
	}
	num, ok := tok.(json.Number)
	if !ok {
		return 0, corrupt("header: want an integer, got %v", describe(tok))
	}
	u, err := strconv.ParseUint(string(num), 10, 64)
	if err != nil {
		return 0, corrupt("header: want a non-negative integer, got %.40s", num)
	}
	return u, nil
}

// describe formats a JSON token briefly for an error message.
func describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return t.String()
	case string:
		return fmt.Sprintf("the string %.40q", t)
	case json.Number:
		return fmt.Sprintf("the number %.40s", string(t))
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%v", t)
	}
}

func (p *jsonParser) stringMap() (map[string]string, error) {
	if err := p.delim('{'); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for p.dec.More() {
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, corrupt("duplicate key %.80q", k)
		}
		v, err := p.str()
		if err != nil {
			return nil, errors.Wrapf(err, "%.80q", k)
		}
		m[k] = v
	}
	return m, p.delim('}')
}

func (p *jsonParser) entry(name string) (entry, error) {
	e := entry{name: name}
	if err := p.delim('{'); err != nil {
		return e, err
	}
	var haveDtype, haveShape, haveOffsets bool
	for p.dec.More() {
		k, err := p.str()
		if err != nil {
			return e, err
		}
		switch k {
		case "dtype":
			if haveDtype {
				return e, corrupt("duplicate dtype")
			}
			haveDtype = true
			if e.dtype, err = p.str(); err != nil {
				return e, errors.Wrap(err, "dtype")
			}
		case "shape":
			if haveShape {
				return e, corrupt("duplicate shape")
			}
			haveShape = true
			if err := p.delim('['); err != nil {
				return e, errors.Wrap(err, "shape")
			}
			e.shape = []int{}
			for p.dec.More() {
				d, err := p.uint()
				if err != nil {
					return e, errors.Wrap(err, "shape")
				}
				if len(e.shape) == maxDims {
					return e, corrupt("shape has more than %d dimensions", maxDims)
				}
				if d > math.MaxInt {
					return e, corrupt("shape: dimension %d is too large", d)
				}
				e.shape = append(e.shape, int(d))
			}
			if err := p.delim(']'); err != nil {
				return e, errors.Wrap(err, "shape")
			}
		case "data_offsets":
			if haveOffsets {
				return e, corrupt("duplicate data_offsets")
			}
			haveOffsets = true
			if err := p.delim('['); err != nil {
				return e, errors.Wrap(err, "data_offsets")
			}
			if e.begin, err = p.uint(); err != nil {
				return e, errors.Wrap(err, "data_offsets")
			}
			if e.end, err = p.uint(); err != nil {
				return e, errors.Wrap(err, "data_offsets")
			}
			if err := p.delim(']'); err != nil {
				return e, errors.Wrap(err, "data_offsets (want two integers)")
			}
		default:
			return e, corrupt("unknown field %.40q", k)
		}
	}
	if err := p.delim('}'); err != nil {
		return e, err
	}
	if !haveDtype || !haveShape || !haveOffsets {
		return e, corrupt("want dtype, shape and data_offsets")
	}
	return e, nil
}

// parseMeta parses the metadata of a verified file.
func parseMeta(raw map[string]string) (Meta, tensor.Dtype, error) {
	var m Meta
	var dt tensor.Dtype
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	required := map[string]bool{keyDtype: false, keyModel: false, keyStep: false, keyEpoch: false, keySeed: false}
	for _, k := range keys {
		v := raw[k]
		if _, ok := required[k]; ok {
			required[k] = true
		}
		var err error
		switch k {
		case keyVersion, keyChecksum: // checked already
		case keyDtype:
			switch v {
			case dtypeF32:
				dt = tensor.Float32
			case dtypeF64:
				dt = tensor.Float64
			default:
				err = corrupt("%.40q is not F32 or F64", v)
			}
		case keyModel, keyVocab:
			if !json.Valid([]byte(v)) {
				err = corrupt("not valid JSON")
			}
			if k == keyModel {
				m.Model = json.RawMessage(v)
			} else {
				m.Vocab = json.RawMessage(v)
			}
		case keyStep:
			m.Step, err = parseInt(v)
		case keyEpoch:
			m.Epoch, err = parseInt(v)
		case keySeed:
			m.Seed, err = strconv.ParseUint(v, 10, 64)
			if err != nil || strconv.FormatUint(m.Seed, 10) != v {
				err = corrupt("%.40q is not a decimal uint64", v)
			}
		case keyRNG:
			if m.RNG, err = base64.StdEncoding.Strict().DecodeString(v); err != nil {
				err = corrupt("not standard base64: %v", err)
			}
			if len(m.RNG) == 0 {
				m.RNG = nil
			}
		default:
			x, ok := strings.CutPrefix(k, extraPrefix)
			if !ok {
				err = corrupt("unknown key (extra keys start with %q)", extraPrefix)
				break
			}
			if m.Extra == nil {
				m.Extra = map[string]string{}
			}
			m.Extra[x] = v
		}
		if err != nil {
			return m, dt, errors.Wrapf(err, "metadata %.80q", k)
		}
	}
	for _, k := range []string{keyDtype, keyModel, keyStep, keyEpoch, keySeed} {
		if !required[k] {
			return m, dt, corrupt("metadata: no %s", k)
		}
	}
	return m, dt, nil
}

// parseInt parses a decimal int in canonical form.
func parseInt(v string) (int, error) {
	n, err := strconv.ParseInt(v, 10, strconv.IntSize)
	if err != nil || strconv.FormatInt(n, 10) != v {
		return 0, corrupt("%.40q is not a decimal integer", v)
	}
	return int(n), nil
}
