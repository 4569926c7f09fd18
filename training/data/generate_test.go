package data

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestAddition(t *testing.T) {
	pairs := Addition(5000, newSource(7))
	if len(pairs) != 5000 || !slices.Equal(pairs, Addition(5000, newSource(7))) {
		t.Fatal("the same seed gave different problems")
	}
	if slices.Equal(pairs, Addition(5000, newSource(8))) {
		t.Error("different seeds gave the same problems")
	}
	re := regexp.MustCompile(`^(0|[1-9][0-9]{0,2})\+(0|[1-9][0-9]{0,2})$`)
	seen := map[int]bool{}
	digits := map[int]int{}
	for _, p := range pairs {
		m := re.FindStringSubmatch(p.Question)
		if m == nil {
			t.Fatalf("question %q", p.Question)
		}
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		if p.Answer != strconv.Itoa(a+b) {
			t.Fatalf("%q: answer %q", p.Question, p.Answer)
		}
		seen[len(m[1])], seen[10+len(m[2])] = true, true
		digits[len(m[1])]++
	}
	if len(seen) != 6 {
		t.Errorf("operands do not have 1, 2 and 3 digits: %v", seen)
	}
	// Each length about a third of the time (the book's distribution).
	for d := 1; d <= 3; d++ {
		if f := float64(digits[d]) / 5000; f < 0.30 || f > 0.37 {
			t.Errorf("%d-digit first operands: %.3f of the problems, want about 1/3", d, f)
		}
	}
	// The first problems of seed 1 (graph.NewSource(1)) stay fixed.
	want := []Pair{{"756+898", "1654"}, {"419+706", "1125"}, {"444+8", "452"}}
	if got := Addition(3, newSource(1)); !slices.Equal(got, want) {
		t.Errorf("seed 1: %q, want %q", got, want)
	}
}

func TestGeneratorsBadArgs(t *testing.T) {
	for _, gen := range []func(int, *rand.Rand) []Pair{Addition, Dates} {
		for _, n := range []int{0, -1, MaxGenerated + 1} {
			if got := gen(n, newSource(1)); got != nil {
				t.Errorf("n = %d: %d pairs", n, len(got))
			}
		}
		if got := gen(3, nil); got != nil {
			t.Errorf("nil source: %d pairs", len(got))
		}
	}
}

func TestOrdinal(t *testing.T) {
	want := map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 10: "10th", 11: "11th", 12: "12th",
		13: "13th", 20: "20th", 21: "21st", 22: "22nd", 23: "23rd", 24: "24th", 30: "30th", 31: "31st"}
	for d, w := range want {
		if got := ordinal(d); got != w {
			t.Errorf("ordinal(%d) = %q, want %q", d, got, w)
		}
	}
}

func TestDateFormats(t *testing.T) {
	d := time.Date(1994, time.September, 27, 0, 0, 0, 0, time.UTC) // a Tuesday
	want := []string{
		"september 27, 1994", "September 27, 1994", "SEPTEMBER 27, 1994", "27 september 1994",
		"Tuesday, September 27, 1994", "TUESDAY, SEPTEMBER 27, 1994", "tuesday, sep 27, 1994",
		"Tue, 27 Sep 1994", "September 27th, 1994", "Sept. 27, 1994", "SEP 27 1994", "SEP 27, 1994",
		"sep 27, 94", "27 Sep 94", "27-Sep-1994", "9/27/94", "27/09/1994", "27.09.1994",
		"1994/09/27", "1994-09-27",
	}
	if len(want) != DateFormats {
		t.Fatalf("%d formats listed, DateFormats = %d", len(want), DateFormats)
	}
	for k, w := range want {
		if got := formatDate(d, k); got != w {
			t.Errorf("format %d: %q, want %q", k, got, w)
		}
	}
	d = time.Date(2005, time.May, 3, 0, 0, 0, 0, time.UTC) // a Tuesday too
	for k, w := range map[int]string{
		0: "may 3, 2005", 3: "3 may 2005", 6: "tuesday, may 3, 2005", 7: "Tue, 3 May 2005",
		8: "May 3rd, 2005", 9: "May 3, 2005", 12: "may 3, 05", 13: "3 May 05", 14: "3-May-2005",
		15: "5/3/05", 16: "03/05/2005", 17: "03.05.2005", 18: "2005/05/03",
	} {
		if got := formatDate(d, k); got != w {
			t.Errorf("format %d: %q, want %q", k, got, w)
		}
	}
	for m, w := range map[time.Month]string{time.January: "Jan. 1, 2020", time.March: "March 1, 2020",
		time.June: "June 1, 2020", time.July: "July 1, 2020", time.December: "Dec. 1, 2020"} {
		if got := formatDate(time.Date(2020, m, 1, 0, 0, 0, 0, time.UTC), 9); got != w {
			t.Errorf("AP style: %q, want %q", got, w)
		}
	}
}

// Go layouts that read every format after normalizeDate.
var dateLayouts = []string{
	"January 2, 2006", "2 January 2006", "Monday, January 2, 2006", "Monday, Jan 2, 2006",
	"Mon, 2 Jan 2006", "Jan 2, 2006", "Jan 2 2006", "Jan 2, 06", "2 Jan 06", "2-Jan-2006",
	"1/2/06", "02/01/2006", "02.01.2006", "2006/01/02", "2006-01-02",
}

var (
	ordinalRE = regexp.MustCompile(`(\d)(st|nd|rd|th)\b`)
	abbrevRE  = regexp.MustCompile(`([a-z])\.`)
)

// normalizeDate lowercases a question and removes what time.Parse cannot
// read: ordinal suffixes and the periods of abbreviations.
func normalizeDate(q string) string {
	q = strings.ReplaceAll(strings.ToLower(q), "sept.", "sep")
	return ordinalRE.ReplaceAllString(abbrevRE.ReplaceAllString(q, "$1"), "$1")
}

// checkDatePair checks that the question reads, through some layout, as
// the answer's date and through no layout as another, and that a weekday
// it names is the date's.
func checkDatePair(t *testing.T, p Pair) {
	t.Helper()
	ans, err := time.Parse("2006-01-02", p.Answer)
	if err != nil {
		t.Errorf("%q: answer %q: %v", p.Question, p.Answer, err)
		return
	}
	q, parsed := normalizeDate(p.Question), 0
	for _, layout := range dateLayouts {
		d, err := time.Parse(layout, q)
		if err != nil {
			continue
		}
		parsed++
		if !d.Equal(ans) {
			t.Errorf("%q read with %q is %s, answer %s", p.Question, layout, d.Format("2006-01-02"), p.Answer)
		}
	}
	if parsed == 0 {
		t.Errorf("%q: no layout reads it", p.Question)
	}
	if wd, ok := weekdayOf(p.Question); ok && wd != ans.Weekday() {
		t.Errorf("%q: %s is a %s", p.Question, p.Answer, ans.Weekday())
	}
}

// weekdayOf returns the weekday a question names before its first comma,
// in full or abbreviated, in any case.
func weekdayOf(q string) (time.Weekday, bool) {
	first, _, ok := strings.Cut(strings.ToLower(q), ",")
	if !ok {
		return 0, false
	}
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		if name := strings.ToLower(wd.String()); first == name || first == name[:3] {
			return wd, true
		}
	}
	return 0, false
}

func TestDates(t *testing.T) {
	pairs := Dates(5000, newSource(11))
	if len(pairs) != 5000 || !slices.Equal(pairs, Dates(5000, newSource(11))) {
		t.Fatal("the same seed gave different problems")
	}
	if slices.Equal(pairs, Dates(5000, newSource(12))) {
		t.Error("different seeds gave the same problems")
	}
	formats := make([]int, DateFormats) // how often each format was drawn
	weekdays, years := 0, map[int]bool{}
	for _, p := range pairs {
		checkDatePair(t, p)
		d, _ := time.Parse("2006-01-02", p.Answer)
		if d.Before(firstDate) || d.After(lastDate) {
			t.Errorf("%s is outside 1970–2029", p.Answer)
		}
		years[d.Year()] = true
		for k := range DateFormats {
			if formatDate(d, k) == p.Question {
				formats[k]++
			}
		}
		if _, ok := weekdayOf(p.Question); ok {
			weekdays++
		}
	}
	for k, n := range formats {
		if n < 150 { // 250 expected
			t.Errorf("format %d (%q) drawn %d times in 5000", k, formatDate(firstDate, k), n)
		}
	}
	if weekdays < 600 { // 1000 expected
		t.Errorf("%d questions name a weekday", weekdays)
	}
	if len(years) != 60 {
		t.Errorf("%d years seen, want 60", len(years))
	}
}

// TestDatesAll checks every date in the range in every format: each
// question has one answer, the longest has 29 characters.
func TestDatesAll(t *testing.T) {
	answer := make(map[string]string, 21915*DateFormats)
	longest := ""
	for d := firstDate; !d.After(lastDate); d = d.AddDate(0, 0, 1) {
		a := d.Format("2006-01-02")
		for k := range DateFormats {
			q := formatDate(d, k)
			if prev, ok := answer[q]; ok && prev != a {
				t.Fatalf("%q is both %s and %s", q, prev, a)
			}
			answer[q] = a
			if utf8.RuneCountInString(q) > utf8.RuneCountInString(longest) {
				longest = q
			}
		}
	}
	if utf8.RuneCountInString(longest) != 29 {
		t.Errorf("longest question %q", longest)
	}
	if testing.Short() {
		return
	}
	for _, k := range []int{0, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16} {
		for d := firstDate; !d.After(lastDate); d = d.AddDate(0, 0, 97) {
			checkDatePair(t, Pair{Question: formatDate(d, k), Answer: d.Format("2006-01-02")})
		}
	}
}
