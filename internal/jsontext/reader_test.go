package jsontext

import "testing"

// read runs one of Reader's methods on text and returns what it read,
// whether it read it, and the text left after it.
func read(text string, method func(*Reader) (string, bool)) (v string, ok bool, rest string) {
	var r Reader
	r.Reset(text)
	v, ok = method(&r)
	return v, ok, r.text[r.pos:]
}

func TestReaderTokens(t *testing.T) {
	t.Parallel()
	str := func(r *Reader) (string, bool) { return r.Str() }
	number := func(r *Reader) (string, bool) { return r.Number() }
	literal := func(r *Reader) (string, bool) { return r.Literal() }
	key := func(r *Reader) (string, bool) { return r.Key() }
	for _, c := range []struct {
		name, text string
		method     func(*Reader) (string, bool)
		want       string
		ok         bool
		rest       string
	}{
		{"string", `"abc",1`, str, "abc", true, ",1"},
		{"empty string", `""`, str, "", true, ""},
		{"string with an escape", `"a\"b"`, str, "", false, `"a\"b"`},
		{"string with a control character", "\"a\tb\"", str, "", false, "\"a\tb\""},
		{"string outside ASCII", `"é"`, str, "", false, `"é"`},
		{"unterminated string", `"abc`, str, "", false, `"abc`},
		{"integer", `123]`, number, "123", true, "]"},
		{"zero", `0,`, number, "0", true, ","},
		{"negative fraction with exponent", `-1.5e+3}`, number, "-1.5e+3", true, "}"},
		{"capital exponent", `1E9`, number, "1E9", true, ""},
		{"leading zero", `01`, number, "0", true, "1"},
		{"fraction without digits", `1.`, number, "", false, "1."},
		{"exponent without digits", `1e+`, number, "", false, "1e+"},
		{"minus alone", `-`, number, "", false, "-"},
		{"plus sign", `+1`, number, "", false, "+1"},
		{"true", `true,`, literal, "true", true, ","},
		{"false", `false]`, literal, "false", true, "]"},
		{"null", `null`, literal, "null", true, ""},
		{"cut literal", `nul`, literal, "", false, "nul"},
		{"other word", `nan`, literal, "", false, "nan"},
		{"key", `"k" : 1`, key, "k", true, "1"},
		{"key without colon", `"k" 1`, key, "", false, "1"},
		{"key not a string", `k:1`, key, "", false, "k:1"},
	} {
		v, ok, rest := read(c.text, c.method)
		if v != c.want || ok != c.ok || rest != c.rest {
			t.Errorf("%s: reading %q = %q, %v, rest %q; want %q, %v, rest %q", c.name, c.text, v, ok, rest, c.want, c.ok, c.rest)
		}
	}
}

func TestReaderAfter(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, text string
		more, ok   bool
		rest       string
	}{
		{"comma", " , 2", true, true, "2"},
		{"end", " ]x", false, true, "x"},
		{"other end", "}", false, false, "}"},
		{"nothing", "  ", false, false, ""},
	} {
		var r Reader
		r.Reset(c.text)
		more, ok := r.After(']')
		if rest := r.text[r.pos:]; more != c.more || ok != c.ok || rest != c.rest {
			t.Errorf("%s: After(']') on %q = %v, %v, rest %q; want %v, %v, rest %q", c.name, c.text, more, ok, rest, c.more, c.ok, c.rest)
		}
	}
}

func TestReaderSpacePeekSkip(t *testing.T) {
	t.Parallel()
	var r Reader
	r.Reset(" \t\r\n{\v")
	r.Space()
	if got := r.Peek(); got != '{' {
		t.Fatalf("Peek after Space = %q, want '{'", got)
	}
	if r.Skip('[') {
		t.Fatal("Skip('[') before '{' = true, want false")
	}
	if !r.Skip('{') {
		t.Fatal("Skip('{') = false, want true")
	}
	r.Space() // a vertical tab is not JSON's white space
	if got := r.Peek(); got != '\v' {
		t.Fatalf("Peek = %q, want '\\v'", got)
	}
	r.Skip('\v')
	if !r.AtEnd() || r.Peek() != 0 {
		t.Fatalf("AtEnd = %v, Peek = %q at the end; want true, 0", r.AtEnd(), r.Peek())
	}
}
