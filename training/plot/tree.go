package plot

import (
	"image/color"
	"os"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// TreeNode is a node of a tree to draw ([Tree]): a leaf's word is written
// under it, and every node is a disc of its class's colour.
type TreeNode struct {
	Word     string // leaves only
	Class    int    // the colour: 0 … len(classes)−1
	Children []*TreeNode
}

// sentimentColors run from red (the first class) through grey (the middle
// one) to green (the last): SST's very negative … very positive.
var sentimentColors = []color.RGBA{{178, 24, 43, 255}, {244, 165, 130, 255}, {186, 186, 186, 255}, {146, 197, 222, 255}, {5, 113, 176, 255}}

// classColor returns the colour of class k of n.
func classColor(k, n int) color.Color {
	if n == len(sentimentColors) {
		return sentimentColors[k]
	}
	if n == 2 {
		return sentimentColors[[]int{0, 4}[k]]
	}
	return plotColor(k)
}

// placed is a node with its position: x in leaf slots, y its height.
type placed struct {
	n    *TreeNode
	x    vg.Length
	h    int
	kids []*placed
}

// Tree draws a tree into a PNG at path: the leaves on the bottom row with
// their words under them, each internal node above its children at its
// height, every node a disc coloured by its class (classes names them, in
// order, in a legend; with five classes red is the first, grey the middle,
// blue the last). It does not recurse on the depth of the tree's input,
// but a tree of more than 10,000 nodes is refused.
func Tree(path, title string, root *TreeNode, classes []string) error {
	if root == nil {
		return errors.New("plot: no tree")
	}
	if len(classes) == 0 {
		return errors.New("plot: no classes")
	}
	word := text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, 11), XAlign: draw.XCenter, YAlign: draw.YTop,
		Handler: plot.DefaultTextHandler}
	head := word
	head.Font = font.From(plot.DefaultFont, 13)
	head.XAlign, head.YAlign = draw.XLeft, draw.YTop
	legend := word
	legend.XAlign, legend.YAlign = draw.XLeft, draw.YCenter

	// Post-order without recursion; leaves get slots as wide as their words.
	const gap, radius, levelH = 8 * vg.Millimeter / 2, vg.Length(5), vg.Length(30)
	var order []*placed
	type frame struct {
		p    *placed
		next int
	}
	top := &placed{n: root}
	stack := []frame{{p: top}}
	x, count := vg.Length(0), 0
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.next < len(f.p.n.Children) {
			c := f.p.n.Children[f.next]
			f.next++
			if c == nil {
				return errors.New("plot: a nil child in the tree")
			}
			kid := &placed{n: c}
			f.p.kids = append(f.p.kids, kid)
			stack = append(stack, frame{p: kid})
			continue
		}
		p := f.p
		stack = stack[:len(stack)-1]
		if count++; count > 10000 {
			return errors.New("plot: more than 10,000 nodes to draw")
		}
		if p.n.Class < 0 || p.n.Class >= len(classes) {
			return errors.Errorf("plot: class %d of %d", p.n.Class, len(classes))
		}
		if len(p.kids) == 0 {
			w := max(word.Width(p.n.Word), 3*radius)
			p.x = x + w/2
			x += w + gap
		} else {
			p.x = (p.kids[0].x + p.kids[len(p.kids)-1].x) / 2
			for _, k := range p.kids {
				p.h = max(p.h, k.h+1)
			}
		}
		order = append(order, p)
	}
	margin := vg.Length(20)
	width := max(x+2*margin, legend.Width("very positive")*vg.Length(len(classes))+150)
	height := vg.Length(top.h)*levelH + 130
	img := vgimg.New(width, height)
	dc := draw.New(img)
	dc.FillPolygon(color.White, []vg.Point{{X: 0, Y: 0}, {X: width, Y: 0}, {X: width, Y: height}, {X: 0, Y: height}})
	base := vg.Length(40) // the leaves' row, above their words
	at := func(p *placed) vg.Point { return vg.Point{X: margin + p.x, Y: base + vg.Length(p.h)*levelH} }
	line := draw.LineStyle{Color: color.Gray{Y: 120}, Width: vg.Points(0.8)}
	for _, p := range order {
		for _, k := range p.kids {
			dc.StrokeLine2(line, at(p).X, at(p).Y, at(k).X, at(k).Y)
		}
	}
	for _, p := range order {
		dc.DrawGlyph(draw.GlyphStyle{Color: classColor(p.n.Class, len(classes)), Radius: radius, Shape: draw.CircleGlyph{}}, at(p))
		if len(p.kids) == 0 {
			dc.FillText(word, vg.Point{X: at(p).X, Y: base - radius - 3}, p.n.Word)
		}
	}
	dc.FillText(head, vg.Point{X: margin, Y: height - 10}, title)
	lx := margin
	for k, name := range classes {
		pt := vg.Point{X: lx + radius, Y: height - 40}
		dc.DrawGlyph(draw.GlyphStyle{Color: classColor(k, len(classes)), Radius: radius, Shape: draw.CircleGlyph{}}, pt)
		dc.FillText(legend, vg.Point{X: pt.X + 2*radius, Y: pt.Y}, name)
		lx += 3*radius + legend.Width(name) + 15
	}
	f, err := os.Create(path)
	if err != nil {
		return errors.Wrap(err, "plot")
	}
	_, err = vgimg.PngCanvas{Canvas: img}.WriteTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return errors.Wrap(err, "plot: saving")
}
