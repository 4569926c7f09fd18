package data

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// MaxGenerated is the most pairs one call of [Addition] or [Dates] makes.
const MaxGenerated = 1 << 24

// Addition returns n addition problems as in the book's addition.txt,
// whose first lines are 16+75, 52+607, 75+22, 63+22, 795+3, 706+796, 8+4:
// each operand has 1, 2 or 3 digits with equal probability and is uniform
// among the numbers of that many digits (0–9, 10–99, 100–999); the
// question is "a+b" (at most 7 characters), the answer the sum (at most 4).
// Write them in the book's layout with WritePairs(w, pairs, 7, 4). Each
// problem draws a's length and value, then b's, from src; the same seed
// gives the same pairs. It returns nil if src is nil or n is not in
// [1, MaxGenerated].
func Addition(n int, src *rand.Rand) []Pair {
	if src == nil || n < 1 || n > MaxGenerated {
		return nil
	}
	pairs := make([]Pair, n)
	for i := range pairs {
		a, b := operand(src), operand(src)
		pairs[i] = Pair{Question: strconv.Itoa(a) + "+" + strconv.Itoa(b), Answer: strconv.Itoa(a + b)}
	}
	return pairs
}

// operand draws a number of 1, 2 or 3 digits, the length uniform first.
func operand(src *rand.Rand) int {
	switch src.IntN(3) {
	case 0:
		return src.IntN(10)
	case 1:
		return 10 + src.IntN(90)
	default:
		return 100 + src.IntN(900)
	}
}

// The range of dates Dates draws from.
var (
	firstDate = time.Date(1970, time.January, 1, 0, 0, 0, 0, time.UTC)
	lastDate  = time.Date(2029, time.December, 31, 0, 0, 0, 0, time.UTC)
)

// DateFormats is the number of human date formats [Dates] writes.
const DateFormats = 20

// Dates returns n date-normalisation problems like the book's date.txt:
// a date drawn uniformly from 1970-01-01 to 2029-12-31, written in one of
// DateFormats human formats drawn uniformly, and the answer YYYY-MM-DD.
// For Tuesday 27 September 1994 the questions are
//
//	september 27, 1994            September 27, 1994
//	SEPTEMBER 27, 1994            27 september 1994
//	Tuesday, September 27, 1994   TUESDAY, SEPTEMBER 27, 1994
//	tuesday, sep 27, 1994         Tue, 27 Sep 1994
//	September 27th, 1994          Sept. 27, 1994 (AP style)
//	SEP 27 1994                   SEP 27, 1994
//	sep 27, 94                    27 Sep 94
//	27-Sep-1994                   9/27/94 (month first)
//	27/09/1994 (day first)        27.09.1994
//	1994/09/27                    1994-09-27
//
// Weekdays are the date's own. A two-digit year yy is 19yy for 70–99 and
// 20yy for 00–29, so every question has exactly one answer. The longest
// question has 29 characters ("Wednesday, September 27, 1995"): the book's
// layout is WritePairs(w, pairs, 29, 10). Each problem draws the date, then
// the format, from src; the same seed gives the same pairs. It returns nil
// if src is nil or n is not in [1, MaxGenerated].
func Dates(n int, src *rand.Rand) []Pair {
	if src == nil || n < 1 || n > MaxGenerated {
		return nil
	}
	days := int(lastDate.Sub(firstDate)/(24*time.Hour)) + 1
	pairs := make([]Pair, n)
	for i := range pairs {
		d := firstDate.AddDate(0, 0, src.IntN(days))
		pairs[i] = Pair{Question: formatDate(d, src.IntN(DateFormats)), Answer: d.Format("2006-01-02")}
	}
	return pairs
}

// apMonths are the Associated Press's month abbreviations.
var apMonths = [12]string{"Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.", "Dec."}

// ordinal writes d with its English suffix: 1st, 2nd, 3rd, 4th, 11th, 21st.
func ordinal(d int) string {
	suffix := "th"
	if d/10 != 1 {
		switch d % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(d) + suffix
}

// formatDate writes t in format k of [0, DateFormats).
func formatDate(t time.Time, k int) string {
	y, m, d := t.Date()
	month, mon := m.String(), m.String()[:3]
	day, dy := t.Weekday().String(), t.Weekday().String()[:3]
	lo, up := strings.ToLower, strings.ToUpper
	switch k {
	case 0:
		return fmt.Sprintf("%s %d, %d", lo(month), d, y)
	case 1:
		return fmt.Sprintf("%s %d, %d", month, d, y)
	case 2:
		return fmt.Sprintf("%s %d, %d", up(month), d, y)
	case 3:
		return fmt.Sprintf("%d %s %d", d, lo(month), y)
	case 4:
		return fmt.Sprintf("%s, %s %d, %d", day, month, d, y)
	case 5:
		return fmt.Sprintf("%s, %s %d, %d", up(day), up(month), d, y)
	case 6:
		return fmt.Sprintf("%s, %s %d, %d", lo(day), lo(mon), d, y)
	case 7:
		return fmt.Sprintf("%s, %d %s %d", dy, d, mon, y)
	case 8:
		return fmt.Sprintf("%s %s, %d", month, ordinal(d), y)
	case 9:
		return fmt.Sprintf("%s %d, %d", apMonths[m-1], d, y)
	case 10:
		return fmt.Sprintf("%s %d %d", up(mon), d, y)
	case 11:
		return fmt.Sprintf("%s %d, %d", up(mon), d, y)
	case 12:
		return fmt.Sprintf("%s %d, %02d", lo(mon), d, y%100)
	case 13:
		return fmt.Sprintf("%d %s %02d", d, mon, y%100)
	case 14:
		return fmt.Sprintf("%d-%s-%d", d, mon, y)
	case 15:
		return fmt.Sprintf("%d/%d/%02d", int(m), d, y%100)
	case 16:
		return fmt.Sprintf("%02d/%02d/%d", d, int(m), y)
	case 17:
		return fmt.Sprintf("%02d.%02d.%d", d, int(m), y)
	case 18:
		return t.Format("2006/01/02")
	default:
		return t.Format("2006-01-02")
	}
}
