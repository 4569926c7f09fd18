// Package plot draws the figures of rnnkit's experiments as PNG files, with
// gonum.org/v1/plot (its fonts are Go modules: no system fonts needed):
// loss curves, attention heatmaps and gradient-flow curves.
package plot

import (
	"image/color"
	"math"
	"sort"
	"strconv"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Series is one named line: Y[i] at X[i].
type Series struct {
	Name string
	X, Y []float64
}

// Lines draws series as lines with points into a PNG at path. With logY,
// the y axis is logarithmic (every y must be positive).
func Lines(path, title, xLabel, yLabel string, series []Series, logY bool) error {
	if len(series) == 0 {
		return errors.New("plot: no series")
	}
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xLabel, yLabel
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = shortLogTicks{}
	}
	p.Add(plotter.NewGrid())
	for i, s := range series {
		if len(s.X) != len(s.Y) || len(s.X) == 0 {
			return errors.Errorf("plot: series %q has %d x and %d y values", s.Name, len(s.X), len(s.Y))
		}
		xy := make(plotter.XYs, len(s.X))
		for j := range s.X {
			if math.IsNaN(s.Y[j]) || math.IsInf(s.Y[j], 0) || (logY && s.Y[j] <= 0) {
				return errors.Errorf("plot: series %q: y = %v cannot be drawn", s.Name, s.Y[j])
			}
			xy[j].X, xy[j].Y = s.X[j], s.Y[j]
		}
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return errors.Wrap(err, "plot")
		}
		c := plotColor(i)
		l.Color, pts.Color = c, c
		pts.Radius = vg.Points(2)
		p.Add(l, pts)
		if s.Name != "" {
			p.Legend.Add(s.Name, l, pts)
		}
	}
	p.Legend.Top = true
	return errors.Wrap(p.Save(6*vg.Inch, 4*vg.Inch, path), "plot: saving")
}

// shortLogTicks labels powers of ten as 1e-05 rather than 9.999999e-06.
type shortLogTicks struct{}

func (shortLogTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.LogTicks{Prec: -1}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'g', 2, 64)
		}
	}
	return ts
}

func plotColor(i int) color.Color {
	cs := []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255}, {140, 86, 75, 255}}
	return cs[i%len(cs)]
}

// heat adapts a matrix to plotter.GridXYZ; row 0 is drawn at the top.
type heat struct{ w [][]float64 }

func (h heat) Dims() (c, r int)   { return len(h.w[0]), len(h.w) }
func (h heat) Z(c, r int) float64 { return h.w[len(h.w)-1-r][c] }
func (h heat) X(c int) float64    { return float64(c) }
func (h heat) Y(r int) float64    { return float64(r) }

// Heatmap draws weights (rows × columns, e.g. attention of each output
// token over the input tokens) into a PNG at path, with the row and column
// labels as tick labels (row 0 at the top).
func Heatmap(path, title string, weights [][]float64, rowLabels, colLabels []string) error {
	if len(weights) == 0 || len(weights[0]) == 0 {
		return errors.New("plot: empty heatmap")
	}
	for i, r := range weights {
		if len(r) != len(weights[0]) {
			return errors.Errorf("plot: row %d has %d values, want %d", i, len(r), len(weights[0]))
		}
		for _, v := range r {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return errors.Errorf("plot: row %d holds %v", i, v)
			}
		}
	}
	if len(rowLabels) != len(weights) || len(colLabels) != len(weights[0]) {
		return errors.Errorf("plot: %d row and %d column labels for a %d×%d map", len(rowLabels), len(colLabels), len(weights), len(weights[0]))
	}
	p := plot.New()
	p.Title.Text = title
	pal := moreland.SmoothBlueRed().Palette(64)
	hm := plotter.NewHeatMap(heat{weights}, pal)
	lo, hi := minMax(weights)
	if lo == hi {
		hi = lo + 1
	}
	hm.Min, hm.Max = lo, hi
	p.Add(hm)
	p.X.Tick.Marker = labelsMarker(colLabels, false)
	p.Y.Tick.Marker = labelsMarker(rowLabels, true)
	p.X.Label.Text, p.Y.Label.Text = "input", "output"
	w := vg.Length(len(colLabels))*0.3*vg.Inch + 1.5*vg.Inch
	h := vg.Length(len(rowLabels))*0.3*vg.Inch + 1.5*vg.Inch
	return errors.Wrap(p.Save(w, h, path), "plot: saving")
}

var _ palette.Palette = moreland.SmoothBlueRed().Palette(2)

func fixedTicks(ls []string, reversed bool) []plot.Tick {
	out := make([]plot.Tick, len(ls))
	for i, l := range ls {
		v := float64(i)
		if reversed {
			v = float64(len(ls) - 1 - i)
		}
		out[i] = plot.Tick{Value: v, Label: l}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out
}

type tickMarker struct {
	ls       []string
	reversed bool
}

func (t tickMarker) Ticks(min, max float64) []plot.Tick { return fixedTicks(t.ls, t.reversed) }

func labelsMarker(ls []string, reversed bool) plot.Ticker { return tickMarker{ls, reversed} }

func minMax(w [][]float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, r := range w {
		for _, v := range r {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	return lo, hi
}
