package cassettes

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// appendItem appends in to dst as one list item of the canonical layout,
// byte for byte as yaml.v3 writes it inside the whole document (see
// encodeInteraction), without reflection or an event stream. It handles
// the one shape Writer appends and only strings whose quoting it is
// certain of: printable ASCII on one line, with header and form names of
// at most maxKeyLen bytes. For anything else it reports false, and the
// caller encodes the interaction with yaml.v3.
func appendItem(dst []byte, in *Interaction) ([]byte, bool) {
	ok := true
	str := func(prefix, s string) {
		dst = append(dst, prefix...)
		if ok {
			dst, ok = appendScalar(dst, s)
		}
		dst = append(dst, '\n')
	}
	str("    - request:\n        body: ", in.Request.Body)
	dst = append(dst, "        form:"...)
	if ok {
		dst, ok = appendValues(dst, in.Request.Form)
	}
	dst = append(dst, "        headers:"...)
	if ok {
		dst, ok = appendValues(dst, in.Request.Headers)
	}
	str("        url: ", in.Request.URL)
	str("        method: ", in.Request.Method)
	str("      response:\n        body: ", in.Response.Body)
	dst = append(dst, "        headers:"...)
	if ok {
		dst, ok = appendValues(dst, in.Response.Headers)
	}
	str("        status: ", in.Response.Status)
	dst = append(dst, "        code: "...)
	dst = strconv.AppendInt(dst, int64(in.Response.Code), 10)
	str("\n        duration: ", in.Response.Duration.String())
	return dst, ok
}

// maxKeyLen bounds the header and form names appendItem writes. yaml.v3
// writes a key of more than 128 bytes as a complex key ("? name"); names
// stay far below this bound, and longer ones go to yaml.v3.
const maxKeyLen = 64

// appendValues appends a header or form map (http.Header, url.Values) as
// the value of a key at indent 8: " {}" when empty, else one key per line
// at indent 12, in yaml.v3's key order, each with its list at indent 16.
func appendValues(dst []byte, m map[string][]string) ([]byte, bool) {
	if len(m) == 0 {
		return append(dst, " {}\n"...), true
	}
	var arr [16]string
	keys := arr[:0]
	digits := false
	for k := range m {
		if len(k) == 0 || len(k) > maxKeyLen {
			return dst, false
		}
		keys = append(keys, k)
		digits = digits || strings.ContainsAny(k, "0123456789")
	}
	slices.SortFunc(keys, func(a, b string) int {
		if keyLess(a, b) {
			return -1
		}
		if keyLess(b, a) {
			return 1
		}
		return 0
	})
	if digits && !totalOrder(keys) {
		return dst, false
	}
	dst = append(dst, '\n')
	ok := true
	for _, k := range keys {
		dst = append(dst, "            "...)
		if dst, ok = appendScalar(dst, k); !ok {
			return dst, false
		}
		dst = append(dst, ':')
		vals := m[k]
		if len(vals) == 0 {
			dst = append(dst, " []\n"...)
			continue
		}
		dst = append(dst, '\n')
		for _, v := range vals {
			dst = append(dst, "                - "...)
			if dst, ok = appendScalar(dst, v); !ok {
				return dst, false
			}
			dst = append(dst, '\n')
		}
	}
	return dst, true
}

// keyLess is the order in which yaml.v3 sorts string map keys (keyList.Less
// in its sorter.go), for ASCII keys: digit runs compare as numbers, and a
// letter sorts after other characters, except right after a digit.
func keyLess(a, b string) bool {
	digits := false
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] == b[i] {
			digits = isASCIIDigit(a[i])
			continue
		}
		al, bl := isASCIILetter(a[i]), isASCIILetter(b[i])
		if al && bl {
			return a[i] < b[i]
		}
		if al || bl {
			if digits {
				return al
			}
			return bl
		}
		var ai, bi int
		var an, bn int64
		if a[i] == '0' || b[i] == '0' {
			for j := i - 1; j >= 0 && isASCIIDigit(a[j]); j-- {
				if a[j] != '0' {
					an, bn = 1, 1
					break
				}
			}
		}
		for ai = i; ai < len(a) && isASCIIDigit(a[ai]); ai++ {
			an = an*10 + int64(a[ai]-'0')
		}
		for bi = i; bi < len(b) && isASCIIDigit(b[bi]); bi++ {
			bn = bn*10 + int64(b[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return a[i] < b[i]
	}
	return len(a) < len(b)
}

// totalOrder reports whether keyLess orders every pair of the sorted keys
// as they stand. Without digits keyLess is a lexicographic order, but with
// them it is a natural sort that need not be transitive; when it orders
// every pair consistently, any sort (yaml.v3's from its random map order
// included) gives this one sequence.
func totalOrder(keys []string) bool {
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if !keyLess(keys[i], keys[j]) || keyLess(keys[j], keys[i]) {
				return false
			}
		}
	}
	return true
}

func isASCIIDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// appendScalar appends s as yaml.v3 writes a string scalar in block
// context, and reports false when s is not printable ASCII on one line
// (tabs, line breaks, control characters, anything non-ASCII or invalid
// UTF-8 are left to yaml.v3). Within that set, yaml.v3 (encoder.stringv,
// then the emitter's analyze and select scalar style steps, with its
// unlimited line width) double-quotes a string that would otherwise read
// as another type, writes it plain when nothing in it is a YAML indicator,
// and single-quotes it otherwise.
func appendScalar(dst []byte, s string) ([]byte, bool) {
	if s == "" {
		return append(dst, `""`...), true // "" reads as null
	}
	// One pass checks the characters and looks for the indicators that
	// may stand anywhere: ": " or a final colon, and " #".
	indicator := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e:
			return dst, false
		case c == ':':
			indicator = indicator || i+1 == len(s) || s[i+1] == ' '
		case c == '#':
			indicator = indicator || i > 0 && s[i-1] == ' '
		}
	}
	switch {
	case !readsAsString(s) || isBase60Float(s) || isOldBool(s):
		return appendQuoted(dst, s, '"', `\`), true
	case !indicator && plainStart(s):
		return append(dst, s...), true
	default:
		return appendQuoted(dst, s, '\'', "'"), true
	}
}

// appendQuoted appends s between quotes q, writing esc before every q in
// s, and in a double-quoted scalar before every backslash too.
func appendQuoted(dst []byte, s string, q byte, esc string) []byte {
	special := string(q)
	if q == '"' {
		special = `"\`
	}
	dst = append(dst, q)
	for {
		i := strings.IndexAny(s, special)
		if i < 0 {
			break
		}
		dst = append(dst, s[:i]...)
		dst = append(dst, esc...)
		dst = append(dst, s[i])
		s = s[i+1:]
	}
	dst = append(dst, s...)
	return append(dst, q)
}

// plainStart reports whether the emitter may write a non-empty line of
// printable ASCII without ": ", " #" or a final colon as a plain scalar in
// block context: no leading or trailing space and no indicator at the
// start (yaml_emitter_analyze_scalar).
func plainStart(s string) bool {
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		return false
	}
	switch s[0] {
	case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	case '?', ':', '-':
		if len(s) == 1 || s[1] == ' ' {
			return false
		}
	}
	return true
}

// readsAsString reports whether yaml.v3 resolves the non-empty plain
// scalar s as a string rather than a null, bool, number or timestamp (its
// resolve function, with no tag).
func readsAsString(s string) bool {
	var hint byte
	switch c := s[0]; {
	case c == '+' || c == '-':
		hint = 'S'
	case '0' <= c && c <= '9':
		hint = 'D'
	case strings.IndexByte("yYnNtTfFoO~<", c) >= 0: // '<' for the merge key "<<"
		hint = 'M'
	case c == '.':
		hint = '.'
	default:
		return true
	}
	if _, ok := resolveMap[s]; ok {
		return false
	}
	switch hint {
	case 'M':
		return true
	case '.':
		_, err := strconv.ParseFloat(s, 64)
		return err != nil
	}
	if isTimestamp(s) {
		return false
	}
	if !strings.Contains(s, "_") && !mayBeNumber(s) {
		return true
	}
	plain := strings.ReplaceAll(s, "_", "")
	if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return false
	}
	if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
		return false
	}
	if yamlStyleFloat.MatchString(plain) {
		if _, err := strconv.ParseFloat(plain, 64); err == nil {
			return false
		}
	}
	for _, p := range [...]struct {
		prefix string
		base   int
	}{{"0b", 2}, {"0o", 8}} {
		if rest, ok := strings.CutPrefix(plain, p.prefix); ok {
			if _, err := strconv.ParseInt(rest, p.base, 64); err == nil {
				return false
			}
			if _, err := strconv.ParseUint(rest, p.base, 64); err == nil {
				return false
			}
		} else if rest, ok := strings.CutPrefix(plain, "-"+p.prefix); ok {
			if _, err := strconv.ParseInt("-"+rest, p.base, 64); err == nil {
				return false
			}
		}
	}
	return true
}

// mayBeNumber reports whether s, which starts with a digit or a sign and
// holds no underscore, could be one of the integers or floats resolve
// accepts: strconv's integers with base prefixes, yamlStyleFloat, and the
// 0b and 0o forms with a sign after the prefix. It is false when s holds a
// character none of them has, or a minus sign where none has one (at the
// start, after the 0b or 0o prefix, in an exponent); ids such as UUIDs and
// dates then skip the parsers.
func mayBeNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		case c == 'x' || c == 'X' || c == 'o' || c == 'O' || c == '+' || c == '.':
		case c == '-':
			if i == 0 || s[i-1] == 'e' || s[i-1] == 'E' || i == 2 && (s[:2] == "0b" || s[:2] == "0o") {
				continue
			}
			return false
		default:
			return false
		}
	}
	return true
}

// resolveMap holds the plain scalars yaml.v3 resolves by table: nulls,
// bools, special floats and the merge key.
var resolveMap = map[string]struct{}{
	"true": {}, "True": {}, "TRUE": {}, "false": {}, "False": {}, "FALSE": {},
	"": {}, "~": {}, "null": {}, "Null": {}, "NULL": {},
	".nan": {}, ".NaN": {}, ".NAN": {}, ".inf": {}, ".Inf": {}, ".INF": {},
	"+.inf": {}, "+.Inf": {}, "+.INF": {}, "-.inf": {}, "-.Inf": {}, "-.INF": {},
	"<<": {},
}

// yamlStyleFloat and base60Float are yaml.v3's own expressions.
var (
	yamlStyleFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
	base60Float    = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`)
)

// isBase60Float reports whether s is a YAML 1.1 base 60 float, which
// yaml.v3 quotes for older parsers.
func isBase60Float(s string) bool {
	c := s[0]
	if !(c == '+' || c == '-' || '0' <= c && c <= '9') || strings.IndexByte(s, ':') < 0 {
		return false
	}
	return base60Float.MatchString(s)
}

// isOldBool reports whether s is a YAML 1.1 bool, which yaml.v3 quotes.
func isOldBool(s string) bool {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON",
		"n", "N", "no", "No", "NO", "off", "Off", "OFF":
		return true
	}
	return false
}

// timestampFormats are the layouts yaml.v3 tries on a plain scalar that
// starts with four digits and a hyphen.
var timestampFormats = []string{
	"2006-1-2T15:4:5.999999999Z07:00",
	"2006-1-2t15:4:5.999999999Z07:00",
	"2006-1-2 15:4:5.999999999",
	"2006-1-2",
}

// isTimestamp reports whether yaml.v3 resolves s as a timestamp.
func isTimestamp(s string) bool {
	i := 0
	for i < len(s) && isASCIIDigit(s[i]) {
		i++
	}
	if i != 4 || i == len(s) || s[i] != '-' {
		return false
	}
	for _, layout := range timestampFormats {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// itemSizeHint returns about how many bytes appendItem writes for in, so
// that its buffer is allocated once.
func itemSizeHint(in *Interaction) int {
	n := 256 + len(in.Request.Body) + len(in.Request.URL) + len(in.Response.Body) + len(in.Response.Status)
	for _, m := range [...]map[string][]string{in.Request.Form, in.Request.Headers, in.Response.Headers} {
		for k, vs := range m {
			n += 16 + len(k)
			for _, v := range vs {
				n += 24 + len(v)
			}
		}
	}
	return n
}
